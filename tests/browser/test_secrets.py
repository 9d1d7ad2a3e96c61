"""The secrets page in a real browser: add (with a field error first), replace, delete with a
confirm, by keyboard; the value is never in the page; screenshots."""

import pytest
from playwright.sync_api import expect

from builder.definition import validate
from builder.models import Workflow
from core.models import Secret

pytestmark = pytest.mark.django_db(transaction=True)

VALUE = "sk_live_browser_value_0c4f"


@pytest.fixture
def used(workspace):
    """A published workflow that sends CRM_TOKEN and needs MAIL_KEY, which nobody set."""
    definition = {
        "name": "Sync contacts",
        "steps": [
            {
                "key": "push",
                "action": "http.request",
                "input": {
                    "url": "http://127.0.0.1:9/contacts",
                    "headers": {
                        "Authorization": "Bearer {{ secrets.CRM_TOKEN }}",
                        "X-Mail": "{{ secrets.MAIL_KEY }}",
                    },
                },
            }
        ],
    }
    workflow = Workflow.objects.create(
        workspace=workspace, slug="sync-contacts", name="Sync contacts", draft=definition
    )
    workflow.publish(validate(definition, workspace))
    Secret.set(workspace, "SLACK_WEBHOOK", "https://hooks.example/abc")


def test_an_editor_manages_secrets_by_keyboard(used, page_as, erin, workspace, screenshot):
    page = page_as(erin)
    page.goto("/w/acme/secrets/")
    expect(page.get_by_role("heading", name="Secrets", exact=True)).to_be_visible()
    # A bad name: a field error, and the value field comes back empty
    page.get_by_label("Name").fill("crm token")
    page.get_by_label("Value").fill(VALUE)
    page.get_by_label("Value").press("Enter")
    expect(page.locator(".field.invalid .errorlist")).to_contain_text("capital letters")
    expect(page.get_by_label("Value")).to_have_value("")
    assert VALUE not in page.content()
    screenshot(page, "secrets-errors", full_page=False)
    # Fixed, it is saved and listed with the workflow that uses it
    page.get_by_label("Name").fill("CRM_TOKEN")
    page.get_by_label("Value").fill(VALUE)
    page.get_by_label("Value").press("Enter")
    row = page.get_by_role("row").filter(has_text="CRM_TOKEN")
    expect(row).to_contain_text("Sync contacts")
    expect(page.get_by_role("note")).to_contain_text("MAIL_KEY")
    assert VALUE not in page.content()
    screenshot(page, "secrets")
    # Replace its value
    row.get_by_role("link", name="Replace value").click()
    page.get_by_label("Value").fill("sk_live_rotated")
    page.get_by_role("button", name="Save new value").press("Enter")
    expect(page.locator(".messages")).to_contain_text("CRM_TOKEN has a new value")
    assert Secret.objects.get(name="CRM_TOKEN").value == "sk_live_rotated"
    # Delete it, after the confirm that says a workflow uses it
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Delete CRM_TOKEN").press("Enter")
    expect(page.locator(".messages")).to_contain_text("CRM_TOKEN was deleted")
    assert "1 published workflow uses it" in messages[0]
    assert not Secret.objects.filter(name="CRM_TOKEN").exists()


def test_a_viewer_sees_names_and_no_controls(used, page_as, bob, screenshot):
    page = page_as(bob)
    page.goto("/w/acme/secrets/")
    expect(page.get_by_role("row").filter(has_text="SLACK_WEBHOOK")).to_be_visible()
    expect(page.get_by_role("button")).to_have_count(1)  # Sign out, nothing else
    expect(page.get_by_role("link", name="Secrets")).to_have_attribute("aria-current", "page")
    screenshot(page, "secrets-viewer", full_page=False)
