"""The secrets page: editors add, replace and delete; viewers see names; nobody sees a value."""

import pytest

from builder.definition import validate
from builder.models import Workflow
from core.models import Secret

pytestmark = pytest.mark.django_db

VALUE = "sk_live_page_value_5f1e"
NEW_VALUE = "sk_live_rotated_value_77c0"
PAGE = "/w/acme/secrets/"


@pytest.fixture
def editor(client, erin):
    client.force_login(erin)
    return client


@pytest.fixture
def viewer(client, bob):
    client.force_login(bob)
    return client


def body(response):
    """The page, after checking that no secret value is anywhere in it."""
    html = response.content.decode()
    for value in (VALUE, NEW_VALUE):
        assert value not in html
    return html


def publish(workspace, slug, secret_names):
    steps = [
        {
            "key": "call",
            "action": "http.request",
            "input": {
                "url": "http://127.0.0.1:9/",
                "headers": {name: f"{{{{ secrets.{name} }}}}" for name in secret_names},
            },
        }
    ]
    definition = {"name": slug.title(), "steps": steps}
    workflow = Workflow.objects.create(
        workspace=workspace, slug=slug, name=slug.title(), draft=definition
    )
    workflow.publish(validate(definition, workspace))
    return workflow


def test_an_editor_adds_replaces_and_deletes_a_secret(editor, workspace):
    # When an editor adds a secret
    response = editor.post(PAGE + "new", {"name": "CRM_TOKEN", "value": VALUE}, follow=True)
    # Then it is listed by name, stored encrypted, and its value is nowhere on the page
    html = body(response)
    assert response.status_code == 200
    assert "CRM_TOKEN" in html and "Secret CRM_TOKEN saved" in html
    secret = Secret.objects.get(workspace=workspace, name="CRM_TOKEN")
    assert secret.value == VALUE and VALUE not in secret.encrypted
    first_update = secret.updated_at

    # When they replace its value (the replace form is one GET away)
    html = body(editor.get(PAGE + "?replace=CRM_TOKEN"))
    assert "Replace CRM_TOKEN" in html
    response = editor.post(PAGE + "CRM_TOKEN/replace", {"value": NEW_VALUE}, follow=True)
    # Then the new value is stored, and still not shown
    assert "CRM_TOKEN has a new value" in body(response)
    secret.refresh_from_db()
    assert secret.value == NEW_VALUE and secret.updated_at > first_update

    # When they delete it
    response = editor.post(PAGE + "CRM_TOKEN/delete", follow=True)
    assert "Secret CRM_TOKEN was deleted" in body(response)
    assert not Secret.objects.filter(workspace=workspace).exists()
    # And a second delete finds nothing
    assert editor.post(PAGE + "CRM_TOKEN/delete").status_code == 404


def test_the_owner_manages_secrets_too(client, alice, workspace):
    client.force_login(alice)
    assert client.post(PAGE + "new", {"name": "SMTP_PASSWORD", "value": VALUE}).status_code == 302
    assert Secret.objects.get(workspace=workspace).name == "SMTP_PASSWORD"
    html = body(client.get(PAGE))
    assert "Replace value" in html and "Add a secret" in html


def test_a_viewer_sees_names_only_and_cannot_change_anything(viewer, workspace):
    Secret.set(workspace, "CRM_TOKEN", VALUE)
    # The page lists the name, with no controls
    response = viewer.get(PAGE)
    html = body(response)
    assert response.status_code == 200 and "CRM_TOKEN" in html
    for control in ("Add a secret", "Replace value", "/delete", "/replace", PAGE + "new"):
        assert control not in html, control
    assert viewer.get(PAGE + "?replace=CRM_TOKEN").content.decode().count("Replace CRM") == 0
    # Forged POSTs find nothing to change
    assert viewer.post(PAGE + "new", {"name": "NEW_ONE", "value": "x"}).status_code == 404
    assert viewer.post(PAGE + "CRM_TOKEN/replace", {"value": NEW_VALUE}).status_code == 404
    assert viewer.post(PAGE + "CRM_TOKEN/delete").status_code == 404
    assert [(s.name, s.value) for s in Secret.objects.all()] == [("CRM_TOKEN", VALUE)]


def test_an_outsider_gets_404_everywhere(client, charlie, workspace):
    Secret.set(workspace, "CRM_TOKEN", VALUE)
    client.force_login(charlie)
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE + "new", {"name": "MINE", "value": "x"}).status_code == 404
    assert client.post(PAGE + "CRM_TOKEN/replace", {"value": NEW_VALUE}).status_code == 404
    assert client.post(PAGE + "CRM_TOKEN/delete").status_code == 404
    assert [(s.name, s.value) for s in Secret.objects.all()] == [("CRM_TOKEN", VALUE)]


def test_an_anonymous_visitor_is_sent_to_sign_in(client, workspace):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("crm_token", VALUE, "capital letters"),
        ("1TOKEN", VALUE, "starting with a letter"),
        ("CRM-TOKEN", VALUE, "capital letters"),
        ("A" * 65, VALUE, "at most 64 characters"),
        ("", VALUE, "This field is required"),
        ("CRM_TOKEN", "", "This field is required"),
        ("CRM_TOKEN", "   ", "Enter the value"),
        ("CRM_TOKEN", VALUE + "x" * 8192, "At most 8 KiB"),
        ("CRM_TOKEN", "é" * 4097, "this value has 8,194 bytes"),
        ("CRM_TOKEN", "q7z", "At least 4 characters: shorter values cannot be masked"),
    ],
)
def test_bad_input_gives_field_errors_and_never_echoes_the_value(
    editor, workspace, name, value, message
):
    response = editor.post(PAGE + "new", {"name": name, "value": value})
    assert response.status_code == 422
    html = body(response)
    assert 'class="errorlist' in html and message in html
    # The password field is rendered empty: the value is not sent back, even now
    assert 'type="password" name="value"' in html
    assert value.strip() == "" or value not in html
    assert not Secret.objects.exists()


def test_a_name_in_use_is_a_field_error_not_a_silent_replace(editor, workspace):
    Secret.set(workspace, "CRM_TOKEN", VALUE)
    response = editor.post(PAGE + "new", {"name": "CRM_TOKEN", "value": NEW_VALUE})
    assert response.status_code == 422
    assert "CRM_TOKEN exists already" in body(response)
    assert Secret.objects.get().value == VALUE


@pytest.mark.parametrize("value, message", [("", "required"), ("x" * 8193, "At most 8 KiB")])
def test_a_bad_replacement_keeps_the_old_value(editor, workspace, value, message):
    Secret.set(workspace, "CRM_TOKEN", VALUE)
    response = editor.post(PAGE + "CRM_TOKEN/replace", {"value": value})
    assert response.status_code == 422
    html = body(response)
    assert "Replace CRM_TOKEN" in html and message in html
    assert value == "" or value not in html
    assert Secret.objects.get().value == VALUE


def test_replacing_or_deleting_an_unknown_secret_is_404(editor, workspace, other_workspace):
    Secret.set(other_workspace, "THEIRS", VALUE)
    assert editor.post(PAGE + "NOPE/replace", {"value": NEW_VALUE}).status_code == 404
    assert editor.post(PAGE + "THEIRS/replace", {"value": NEW_VALUE}).status_code == 404
    assert editor.post(PAGE + "THEIRS/delete").status_code == 404
    assert Secret.objects.get().value == VALUE


def test_the_page_shows_which_published_workflows_use_each_secret(viewer, workspace):
    # Given two published workflows, one needing a secret nobody set
    Secret.set(workspace, "CRM_TOKEN", VALUE)
    Secret.set(workspace, "UNUSED", VALUE)
    publish(workspace, "billing", ["CRM_TOKEN"])
    publish(workspace, "onboarding", ["CRM_TOKEN", "MAIL_KEY"])
    # And a later version of billing that no longer uses it
    billing = Workflow.objects.get(slug="billing")
    billing.publish(
        validate({"name": "Billing", "steps": [{"key": "a", "action": "debug.echo"}]}, workspace)
    )
    html = body(viewer.get(PAGE))
    crm_row = html.split("CRM_TOKEN</strong>")[1].split("</tr>")[0]
    assert "Onboarding" in crm_row and "Billing" not in crm_row
    unused_row = html.split("UNUSED</strong>")[1].split("</tr>")[0]
    assert "no published workflow" in unused_row
    assert "Used but not set" in html and "<code>MAIL_KEY</code>" in html


def test_a_secret_saved_under_another_key_is_flagged(viewer, workspace):
    Secret.objects.create(workspace=workspace, name="OLD", encrypted="plain text from before")
    html = body(viewer.get(PAGE))
    assert "unreadable: set it again" in html
    assert Secret.values_of(workspace.id) == {}


def test_the_sidebar_links_to_the_page(viewer, workspace):
    html = viewer.get(PAGE).content.decode()
    assert f'<a href="{PAGE}" aria-current="page">' in html


@pytest.mark.parametrize("name", ["A\x00B", "\x00", "a b", "x" * 300])
def test_a_name_that_cannot_be_a_secret_in_the_address_finds_nothing(editor, workspace, name):
    from urllib.parse import quote

    # Given a secret, and an address naming something no secret can be called (a NUL
    # byte is refused by PostgreSQL itself)
    Secret.set(workspace, "TOKEN", VALUE)
    # When it is asked to be replaced or deleted
    page = editor.get(PAGE, {"replace": name})
    # Then the page answers without a replace form, and the actions find nothing
    assert page.status_code == 200 and 'id="replace-title"' not in body(page)
    assert editor.post(PAGE + quote(name) + "/replace", {"value": NEW_VALUE}).status_code == 404
    assert editor.post(PAGE + quote(name) + "/delete").status_code == 404
    assert Secret.objects.get().value == VALUE
