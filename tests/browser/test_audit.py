"""The audit page in a real browser: an owner's changes listed, filtered by action,
actor and object, paged; a viewer sees no link and gets 403; screenshots."""

import pytest
from playwright.sync_api import expect

from core.models import ApiKey, Secret
from tests.api import Api

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_filters_the_audit_log(page_as, alice, bob, workspace, client, screenshot):
    # Given changes by alice on the pages and by an API key
    page = page_as(alice)
    page.goto("/w/acme/secrets/")
    page.get_by_label("Name").fill("CRM_TOKEN")
    page.get_by_label("Value").fill("sk_live_audit_value_9a1b")
    page.get_by_role("button", name="Add secret").click()
    expect(page.get_by_text("Secret CRM_TOKEN saved")).to_be_visible()
    api = Api(client, ApiKey.issue(workspace, "deploy-bot", role="owner")[1])
    api.put("/retention", {"keep_runs_days": 14, "keep_failed_runs_days": 60})
    Secret.set(workspace, "OTHER_TOKEN", "sk_live_other_value_33")
    # When alice opens the audit log from the sidebar
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    rows = page.locator("#results tbody tr")
    expect(rows.filter(has_text="workspace.retention")).to_contain_text("deploy-bot")
    expect(rows.filter(has_text="secret.create").first).to_be_visible()
    expect(page.locator("#results")).not_to_contain_text("sk_live_audit_value_9a1b")
    screenshot(page, "audit-log")
    # Then filtering by action narrows the table (htmx, the URL follows)
    page.get_by_label("Action").select_option("secret.create")
    expect(rows).to_have_count(2)  # CRM_TOKEN by alice, OTHER_TOKEN by no one (a script)
    page.get_by_label("Actor").fill("alice")
    page.get_by_label("Actor").press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("CRM_TOKEN")
    assert "actor=alice" in page.url
    screenshot(page, "audit-log-filtered")
    # And a bad date range says what is wrong
    page.get_by_role("link", name="Reset").click()
    page.get_by_label("From", exact=True).fill("2026-02-01")
    page.get_by_label("To", exact=True).fill("2026-01-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".errorlist")).to_contain_text("The end is before the start.")
    # And bob, a viewer, sees no link and is refused
    other = page_as(bob)
    other.goto("/w/acme/runs/")
    expect(other.get_by_role("link", name="Audit log")).to_have_count(0)
    assert other.goto("/w/acme/audit/").status == 403
