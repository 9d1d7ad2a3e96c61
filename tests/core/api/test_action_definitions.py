"""Defining a workspace's own actions and their versions through the API, with the same
rules as the page (core/web/action_forms.py)."""

import pytest

from core.models import Action, ApiKey
from tests.api import Api, error_of

pytestmark = pytest.mark.django_db
CRM = {
    "name": "crm.update",
    "description": "Update a CRM record",
    "url": "http://127.0.0.1:9/records/{{ input.id }}",
    "method": "PUT",
    "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
    "body": {"email": "{{ input.email }}"},
    "input_schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
    "retry_policy": {"max_attempts": 5},
}


def test_create_an_http_action_then_a_version_that_keeps_what_was_left_out(api, workspace):
    # When an HTTP action is defined
    created = api.post("/actions", CRM)
    assert created.status_code == 201, created.content
    first = created.json()
    assert (first["name"], first["version"], first["kind"]) == ("crm.update", 1, "http")
    assert first["config"]["json"] == {"email": "{{ input.email }}"}
    assert first["retry_policy"]["max_attempts"] == 5 and first["retry_policy"]["jitter"] is True
    assert first["timeout_s"] == 30  # the form's default
    # And its next version changes the timeout only
    second = api.post("/actions/crm.update/versions", {"timeout_s": 5, "body": None})
    assert second.status_code == 201, second.content
    body = second.json()
    assert body["version"] == 2 and body["timeout_s"] == 5
    assert body["config"]["url"] == CRM["url"] and "json" not in body["config"]
    assert body["retry_policy"]["max_attempts"] == 5 and body["input_schema"] == CRM["input_schema"]
    # Then both versions are listed, newest first, and each can be read
    listed = api.get("/actions/crm.update/versions").json()
    assert [v["version"] for v in listed] == [2, 1]
    assert api.get("/actions/crm.update/versions/1").json()["timeout_s"] == 30
    assert api.get("/actions/crm.update/versions/3").status_code == 404
    # And the catalogue shows the latest
    [row] = [a for a in api.get("/actions").json() if a["name"] == "crm.update"]
    assert row["versions"] == [2, 1]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": "CRM Update"}, "name"),
        ({"name": "debug.echo"}, "name"),  # a built-in's name
        ({"url": "ftp://example.com"}, "url"),
        ({"url": None}, "url"),
        ({"input_schema": {"type": "array"}}, "input_schema"),
        ({"input_schema": {"type": "object", "properties": 3}}, "input_schema"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"retry_policy": {"max_attempts": 0}}, "retry_policy.max_attempts"),
        ({"retry_policy": {"backoff_coefficient": 50}}, "retry_policy.backoff_coefficient"),
    ],
)
def test_what_the_page_refuses_the_api_refuses_with_field_errors(api, workspace, change, field):
    body = {k: v for k, v in {**CRM, **change}.items() if v is not None}
    response = api.post("/actions", body)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not Action.objects.filter(workspace=workspace).exists()


def test_a_name_is_taken_once_per_workspace(api, workspace, other_workspace):
    assert api.post("/actions", CRM).status_code == 201
    again = api.post("/actions", CRM)
    assert again.status_code == 422 and "name" in error_of(again)["fields"]
    # Another workspace may use the name
    theirs = Api(api.client, ApiKey.issue(other_workspace, "theirs")[1])
    assert theirs.post("/actions", CRM).status_code == 201


def test_script_actions_stay_staff_only(api, workspace):
    response = api.post("/actions", {"name": "ops.enrich", "kind": "script", "url": "x"})
    assert response.status_code == 403
    assert "staff" in error_of(response)["message"]


def test_another_workspaces_action_and_a_builtin_cannot_be_versioned(api, other_workspace):
    theirs = Api(api.client, ApiKey.issue(other_workspace, "theirs")[1])
    assert theirs.post("/actions", CRM).status_code == 201
    assert api.get("/actions/crm.update/versions").status_code == 404
    assert api.post("/actions/crm.update/versions", {"timeout_s": 5}).status_code == 404
    # A built-in's versions are readable, but built-ins are versioned in code
    assert api.get("/actions/debug.echo/versions").json()[0]["builtin"] is True
    assert api.post("/actions/debug.echo/versions", {"timeout_s": 5}).status_code == 404


def test_an_unknown_field_is_refused(api):
    response = api.post("/actions", {**CRM, "retries": 3})
    assert response.status_code == 422 and "retries" in error_of(response)["fields"]


def test_an_action_s_json_keeps_the_order_it_was_written_in(api, workspace, client):
    # Given an HTTP action whose schema, headers and body have keys in an order PostgreSQL's
    # jsonb does not keep (shorter keys first, then bytewise)
    properties = {"zeta": {"type": "integer"}, "beta": {"type": "string"}}
    ordered = {
        **CRM,
        "name": "crm.ordered",
        "headers": {"X-Zeta": "1", "X-Beta": "2"},
        "body": {"zeta": "{{ input.zeta }}", "beta": {"yankee": 1, "xray": 2}},
        "input_schema": {"type": "object", "properties": properties, "required": ["zeta"]},
    }
    assert api.post("/actions", ordered).status_code == 201
    # When a next version changes only its timeout (the rest taken from the stored one)
    assert api.post("/actions/crm.ordered/versions", {"timeout_s": 5}).status_code == 201
    # Then each version reads back in that order
    for number in (1, 2):
        version = api.get(f"/actions/crm.ordered/versions/{number}").json()
        assert list(version["input_schema"]) == ["type", "properties", "required"]
        assert list(version["input_schema"]["properties"]) == ["zeta", "beta"]
        assert list(version["config"]["headers"]) == ["X-Zeta", "X-Beta"]
        assert list(version["config"]["json"]) == ["zeta", "beta"]
        assert list(version["config"]["json"]["beta"]) == ["yankee", "xray"]
    # And the action's page lists its fields so
    from tests.personas import make_user

    client.force_login(make_user("alice", workspace, "owner"))
    text = client.get("/w/acme/actions/crm.ordered/").content.decode()
    assert 0 < text.find("zeta") < text.find("beta")
