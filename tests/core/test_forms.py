"""Issue item 5: bad input in every form of these pages gives field errors, never a 500."""

import re

import pytest
from django.contrib.auth.models import User

from core.models import Action, ActionVersion, ApiKey, Membership
from runner.models import Run
from tests.personas import PASSWORD
from tests.web import compensated_run

pytestmark = pytest.mark.django_db

GOOD_RETRY = {
    "timeout_s": "10",
    "max_attempts": "3",
    "initial_interval_s": "1",
    "backoff_coefficient": "2",
    "max_interval_s": "60",
}


@pytest.fixture
def owner(client, alice):
    client.force_login(alice)
    return client


def assert_field_errors(response, *messages):
    assert response.status_code in (200, 400, 422), response.status_code
    html = response.content.decode()
    assert 'class="errorlist' in html or "form-errors" in html
    for message in messages:
        assert message in html, message


def test_sign_in_with_a_wrong_password(client, alice):
    response = client.post("/login/", {"login": "alice", "password": "nope"})
    assert_field_errors(response, "username and/or password you specified are not correct")


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {
                "username": "",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "workspace": "X",
                "email": "zed@example.com",
            },
            "This field is required",
        ),
        (
            {
                "username": "zed",
                "password1": PASSWORD,
                "password2": "other",
                "workspace": "X",
                "email": "zed@example.com",
            },
            "You must type the same password each time.",
        ),
        (
            {
                "username": "zed",
                "password1": "123",
                "password2": "123",
                "workspace": "X",
                "email": "zed@example.com",
            },
            "too short",
        ),
        (
            {
                "username": "zed",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "workspace": "!!!",
                "email": "zed@example.com",
            },
            "at least one letter",
        ),
        (
            {
                "username": "alice",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "workspace": "X",
                "email": "zed@example.com",
            },
            "already exists",
        ),
    ],
)
def test_sign_up_with_bad_input(client, alice, data, message):
    response = client.post("/signup/", data)
    assert_field_errors(response, message)
    assert not User.objects.filter(username="zed").exists()


def test_new_workspace_without_a_name(owner):
    assert_field_errors(owner.post("/workspaces/new/", {"name": "  "}), "This field is required")


def test_member_add_with_unknown_user_and_bad_role(owner, bob):
    assert_field_errors(
        owner.post("/w/acme/members/add", {"username": "ghost", "role": "editor"}),
        "No user has this username",
    )
    assert_field_errors(
        owner.post("/w/acme/members/add", {"username": "bob", "role": "emperor"}),
        "Select a valid choice",
        "already a member",
    )


def test_member_role_with_a_bad_role(owner, bob):
    membership = Membership.objects.get(user=bob)
    response = owner.post(f"/w/acme/members/{membership.id}/role", {"role": "emperor"}, follow=True)
    assert response.status_code == 200
    assert "Choose owner, editor or viewer" in response.content.decode()
    assert Membership.objects.get(user=bob).role == "viewer"


def test_api_key_without_a_name(owner):
    assert_field_errors(owner.post("/w/acme/api-keys/new", {"name": " "}), "This field is required")
    assert not ApiKey.objects.exists()


def test_api_key_role_is_at_most_the_creators(client, workspace, alice):
    from tests.personas import make_user

    client.force_login(make_user("erica", workspace, "editor"))
    page = client.get("/w/acme/api-keys/").content.decode()
    assert 'value="viewer"' in page and 'value="owner"' not in page
    response = client.post("/w/acme/api-keys/new", {"name": "root", "role": "owner"})
    assert_field_errors(response, "Select a valid choice")
    assert client.post("/w/acme/api-keys/new", {"name": "ci", "role": "viewer"}).status_code == 302
    assert ApiKey.objects.get().role == "viewer"


def test_createapikey_gives_the_key_a_role(workspace, capsys):
    from django.core.management import call_command

    call_command("createapikey", "--workspace", "acme", "--name", "admin", "--role", "owner")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert ApiKey.authenticate(raw).role == "owner"


@pytest.mark.parametrize(
    "action, data, message",
    [
        ("debug.fail", {"input-fail_times": "-7"}, "greater than or equal to -1"),
        ("debug.fail", {"input-fail_times": "many"}, "Enter a whole number"),
        ("debug.fail", {"input-retryable": "perhaps"}, "Select a valid choice"),
        ("debug.sleep", {}, "This field is required"),
        ("debug.echo", {"input-__input__": "{not json"}, "Not valid JSON"),
        ("debug.echo", {"input-__input__": "[1, 2]"}, "Must be a JSON object"),
        (
            "http.request",
            {"input-url": "ftp://example.com", "input-method": '"GET"'},
            "does not match",
        ),
        ("http.request", {"input-url": "ftp://x"}, "at least 8 characters"),
        (
            "http.request",
            {"input-url": "https://x.example", "input-method": '"BREW"'},
            "Select a valid choice",
        ),
        (
            "http.request",
            {"input-url": "https://x.example", "input-headers": '{"A": 1}'},
            "headers.A",
        ),
        ("email.send", {}, "This field is required"),
    ],
)
def test_action_run_form_with_bad_input(owner, action, data, message):
    response = owner.post(f"/w/acme/actions/{action}/run", data)
    assert_field_errors(response, message)
    assert response.status_code == 422
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"a": NaN}', "NaN is not JSON"),
        ('{"a": 1e999}', "out of range"),
        ('{"a": "\\u0000"}', "U+0000"),
        ('{"a": "\\ud800"}', "unpaired surrogates"),
        ("[" * 100 + "]" * 100, "nested deeper"),
        ("[" * 50000 + "]" * 50000, "Not valid JSON"),
    ],
)
def test_json_the_database_cannot_store_is_a_field_error(owner, workspace, text, message):
    # PostgreSQL's jsonb refuses these: each must be a field error, never a 500
    response = owner.post("/w/acme/actions/debug.echo/run", {"input-__input__": text})
    assert_field_errors(response, message)
    assert response.status_code == 422
    run = compensated_run(workspace)
    response = owner.post(
        f"/w/acme/runs/{run.id}/rerun",
        {"start_from": "start", "version": "pinned", "input_mode": "edited", "input": text},
    )
    assert_field_errors(response, message)
    assert Run.objects.count() == 1


def test_a_field_of_any_type_takes_plain_text_or_json(owner):
    # email.send's `to` is a string or a list: typed as a person would, both work
    form = {"input-subject": "Hi", "input-body": "Hello"}
    response = owner.post("/w/acme/actions/email.send/run", {**form, "input-to": "ada@example.com"})
    assert response.status_code == 302, response.content.decode()
    assert Run.objects.get().input["to"] == "ada@example.com"
    response = owner.post(
        "/w/acme/actions/email.send/run", {**form, "input-to": '["a@x.io", "b@x.io"]'}
    )
    assert response.status_code == 302
    assert Run.objects.order_by("-id").first().input["to"] == ["a@x.io", "b@x.io"]
    # And what starts like JSON must be JSON
    response = owner.post("/w/acme/actions/email.send/run", {**form, "input-to": '["a@x.io"'})
    assert_field_errors(response, "Not valid JSON")


def test_the_run_form_uses_the_widgets_an_action_asks_for(owner):
    # email.send asks for a one-line subject (its schema allows 998 characters) and a body box
    html = owner.get("/w/acme/actions/email.send/run").content.decode()
    assert re.search(r'<input type="text" name="input-subject"', html)
    assert re.search(r'<textarea name="input-body"', html)
    # in the order its code declares them, not the order jsonb keeps keys in
    names = re.findall(r'name="input-(\w+)"', html)
    assert names == ["to", "subject", "body", "html", "from"]


def test_a_schema_description_is_text_not_html(owner, workspace):
    # Given an editor's action whose schema describes its input with markup
    action = Action.objects.create(workspace=workspace, name="crm.evil")
    ActionVersion.objects.create(
        action=action,
        version=1,
        kind="http",
        input_schema={
            "type": "object",
            "properties": {"q": {"type": "string", "description": "<img src=x onerror=alert(1)>"}},
        },
        config={"method": "GET", "url": "https://crm.example"},
    )
    # Then its run form shows the markup as text
    html = owner.get("/w/acme/actions/crm.evil/run").content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize(
    "data, field_message",
    [
        ({"name": "Bad Name"}, "Use lowercase letters"),
        ({"name": "debug.echo"}, "A built-in action has this name"),
        ({"url": "ftp://x"}, "Start with http:// or https://"),
        ({"headers": "[1]"}, "Must be a JSON object"),
        ({"headers": '{"X-Count": 1}'}, "Header values must be strings"),
        ({"body": "{oops"}, "Not valid JSON"),
        ({"input_schema": '{"type": "strin"}'}, "not a valid JSON Schema"),
        ({"input_schema": '{"type": "string"}'}, "An action&#x27;s input is an object"),
        (
            {"input_schema": '{"properties": {"a": {"$ref": "http://127.0.0.1:9/a.json"}}}'},
            "/properties/a: $ref",
        ),
        ({"input_schema": '{"properties": {"a": {"pattern": "(?=a)"}}}'}, "RE2 syntax"),
        ({"max_attempts": "0"}, "greater than or equal to 1"),
        ({"backoff_coefficient": "50"}, "must be between 1 and 10"),
        ({"timeout_s": "-1"}, "greater than or equal to 0.1"),
        ({"timeout_s": "soon"}, "Enter a number"),
    ],
)
def test_http_action_form_with_bad_input(owner, data, field_message):
    good = {
        "name": "crm.create",
        "method": "POST",
        "url": "https://crm.example/contacts",
        "input_schema": '{"type": "object"}',
        **GOOD_RETRY,
    }
    response = owner.post("/w/acme/actions/new/http", {**good, **data})
    assert_field_errors(response, field_message)
    assert response.status_code == 422
    assert not Action.objects.filter(workspace__isnull=False).exists()


def test_script_actions_are_for_staff_and_checked(owner, alice):
    assert owner.get("/w/acme/actions/new/script").status_code == 404
    alice.is_staff = True
    alice.save()
    response = owner.post(
        "/w/acme/actions/new/script",
        {
            "name": "ops.enrich",
            "command": '"python3 x.py"',
            "input_schema": '{"type": "object"}',
            **GOOD_RETRY,
        },
    )
    assert_field_errors(response, "Must be a JSON array")
    response = owner.post(
        "/w/acme/actions/new/script",
        {
            "name": "ops.enrich",
            "command": '["python3", ""]',
            "input_schema": '{"type": "object"}',
            **GOOD_RETRY,
        },
    )
    assert_field_errors(response, "non-empty list of non-empty strings")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"input_mode": "edited", "input": '{"fail_times": 0'}, "Not valid JSON"),
        ({"input_mode": "edited", "input": "[]"}, "must be a JSON object"),
        ({"input_mode": "sideways"}, "Select a valid choice"),
        ({"start_from": "middle"}, "Select a valid choice"),
        ({"version": "oldest"}, "Select a valid choice"),
    ],
)
def test_rerun_form_with_bad_input(owner, workspace, data, message):
    run = compensated_run(workspace)
    good = {"start_from": "failed", "version": "pinned", "input_mode": "original"}
    response = owner.post(f"/w/acme/runs/{run.id}/rerun", {**good, **data})
    assert_field_errors(response, message)
    assert response.status_code == 422
    assert Run.objects.count() == 1


def test_rerun_from_failed_step_of_a_succeeded_run_is_refused(owner, workspace):
    from tests.web import succeeded_run

    run = succeeded_run(workspace)
    response = owner.post(
        f"/w/acme/runs/{run.id}/rerun",
        {"start_from": "failed", "version": "pinned", "input_mode": "original"},
    )
    assert_field_errors(response, "no failed step")


def test_failures_bulk_with_bad_input(owner, workspace, other_workspace, charlie):
    run = compensated_run(workspace)
    theirs = compensated_run(other_workspace)
    assert_field_errors(
        owner.post("/w/acme/failures/bulk", {"action": "rerun"}), "Select at least one run"
    )
    assert_field_errors(
        owner.post("/w/acme/failures/bulk", {"runs": run.id, "action": "resolve", "note": ""}),
        "Say how it was resolved",
    )
    assert_field_errors(
        owner.post("/w/acme/failures/bulk", {"runs": theirs.id, "action": "resolve", "note": "x"}),
        "Select a valid choice",
    )
    assert_field_errors(
        owner.post("/w/acme/failures/bulk", {"runs": "abc", "action": "explode"}),
        "not a valid value",
    )
    assert not Run.objects.filter(resolved_at__isnull=False).exists()


@pytest.mark.parametrize(
    "query",
    [
        "status=melting",
        "trigger=pigeon",
        "since=forever",
        "workflow=999999",
        "before=-3",
        "after=x",
    ],
)
def test_runs_list_with_bad_filters(owner, query):
    response = owner.get(f"/w/acme/runs/?{query}")
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()


@pytest.mark.parametrize("query", ["kind=odd", "state=lost", "workflow=abc", "before=0"])
def test_failures_with_bad_filters(owner, query):
    response = owner.get(f"/w/acme/failures/?{query}")
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()


def test_timeline_with_a_bad_cursor(owner, workspace):
    run = compensated_run(workspace)
    response = owner.get(f"/w/acme/runs/{run.id}/timeline?after=abc")
    assert response.status_code == 286
