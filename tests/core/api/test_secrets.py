"""`/api/v1/secrets`: set, list and delete by name; a value goes in and never comes out."""

import json

import pytest

from core.models import ApiKey, Secret
from runner.models import Run, RunEvent
from tests.api import Api, error_of
from tests.runs import wait_for

pytestmark = pytest.mark.django_db

VALUE = "sk_live_api_value_9a3c"
NEW_VALUE = "sk_live_api_rotated_41d2"


def text(response):
    """The answer, after checking that no secret value is in it."""
    raw = response.content.decode()
    assert VALUE not in raw and NEW_VALUE not in raw
    return raw


def test_put_creates_then_replaces_and_get_lists_names_only(api, workspace):
    # When a secret is PUT for the first time
    created = api.put("/secrets/CRM_TOKEN", {"value": VALUE})
    # Then it is created (201), answered by name
    text(created)
    assert created.status_code == 201
    assert set(created.json()) == {"name", "updated_at"}
    assert Secret.objects.get(workspace=workspace, name="CRM_TOKEN").value == VALUE
    # When it is PUT again
    replaced = api.put("/secrets/CRM_TOKEN", {"value": NEW_VALUE})
    text(replaced)
    assert replaced.status_code == 200
    assert replaced.json()["updated_at"] > created.json()["updated_at"]
    assert Secret.objects.get(workspace=workspace).value == NEW_VALUE
    # And the list shows names and update times only
    api.put("/secrets/A_FIRST", {"value": VALUE})
    listed = api.get("/secrets")
    text(listed)
    assert listed.status_code == 200
    assert [item["name"] for item in listed.json()] == ["A_FIRST", "CRM_TOKEN"]
    assert all(set(item) == {"name", "updated_at"} for item in listed.json())


def test_delete_removes_it_and_then_404s(api, workspace):
    Secret.set(workspace, "CRM_TOKEN", VALUE)
    response = api.delete("/secrets/CRM_TOKEN")
    assert response.status_code == 204 and response.content == b""
    assert not Secret.objects.exists()
    again = api.delete("/secrets/CRM_TOKEN")
    assert again.status_code == 404 and error_of(again)["code"] == "not_found"


def test_deleting_a_name_no_secret_can_have_is_404(api, workspace):
    # A NUL byte would make PostgreSQL refuse the query: the answer is still a clean 404
    for name in ("A%00B", "%00", "a%20b"):
        response = api.delete(f"/secrets/{name}")
        assert response.status_code == 404, (name, response.content)
        assert error_of(response)["code"] == "not_found"


def test_another_workspaces_secrets_are_invisible(api, client, workspace, other_workspace):
    # Given a secret of Globex and a key of Globex
    Secret.set(other_workspace, "THEIRS", VALUE)
    theirs = Api(client, ApiKey.issue(other_workspace, "globex")[1])
    # Then Acme's key neither lists nor deletes it
    assert api.get("/secrets").json() == []
    assert api.delete("/secrets/THEIRS").status_code == 404
    # And a PUT of the same name makes Acme's own secret, leaving Globex's alone
    assert api.put("/secrets/THEIRS", {"value": NEW_VALUE}).status_code == 201
    assert Secret.objects.get(workspace=other_workspace).value == VALUE
    assert Secret.objects.get(workspace=workspace).value == NEW_VALUE
    assert [item["name"] for item in theirs.get("/secrets").json()] == ["THEIRS"]


@pytest.mark.parametrize(
    "name, body, field",
    [
        ("crm_token", {"value": VALUE}, "name"),
        ("1TOKEN", {"value": VALUE}, "name"),
        ("A" * 65, {"value": VALUE}, "name"),
        ("CRM_TOKEN", {"value": ""}, "value"),
        ("CRM_TOKEN", {"value": "  \n"}, "value"),
        ("CRM_TOKEN", {"value": VALUE + "x" * 8192}, "value"),
        ("CRM_TOKEN", {}, "value"),
        ("CRM_TOKEN", {"value": 42}, "value"),
        ("CRM_TOKEN", {"value": "q7z"}, "value"),
        ("CRM_TOKEN", {"value": VALUE, "note": "typo"}, "note"),
    ],
)
def test_bad_input_is_a_422_with_field_errors(api, workspace, name, body, field):
    response = api.put(f"/secrets/{name}", body)
    text(response)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid" and field in error["fields"], error
    assert not Secret.objects.exists()


def test_a_value_of_exactly_8_kib_is_accepted(api, workspace):
    assert api.put("/secrets/BIG", {"value": "x" * 8192}).status_code == 201


def test_a_value_under_4_characters_is_refused_saying_why(api, workspace):
    response = api.put("/secrets/SHORT", {"value": "abc"})
    assert response.status_code == 422
    assert error_of(response)["fields"]["value"] == [
        "At least 4 characters: shorter values cannot be masked."
    ]
    assert api.put("/secrets/SHORT", {"value": "abcd"}).status_code == 201


def test_no_key_is_a_401(client, workspace):
    assert client.get("/api/v1/secrets").status_code == 401
    assert client.delete("/api/v1/secrets/CRM_TOKEN").status_code == 401
    assert Api(client, "bw_nope").put("/secrets/X", {"value": VALUE}).status_code == 401


def test_the_openapi_document_never_offers_the_value_back(client):
    document = client.get("/api/v1/openapi.json").json()
    answers = json.dumps(
        [
            operation["responses"]
            for path, operations in document["paths"].items()
            if path.startswith("/api/v1/secrets")
            for operation in operations.values()
        ]
    )
    assert "SecretOut" in answers and "SecretIn" not in answers
    assert "value" not in document["components"]["schemas"]["SecretOut"]["properties"]


@pytest.mark.django_db(transaction=True)
def test_the_client_sets_lists_and_deletes(live_server, api_key, workspace):
    from core.client import Brickwork, BrickworkError

    brickwork = Brickwork(api_key=api_key, base_url=live_server.url)
    assert brickwork.secrets.set("CRM_TOKEN", VALUE)["name"] == "CRM_TOKEN"
    assert brickwork.secrets.names() == ["CRM_TOKEN"]
    assert Secret.objects.get(workspace=workspace).value == VALUE
    brickwork.secrets.delete("CRM_TOKEN")
    assert brickwork.secrets.names() == []
    with pytest.raises(BrickworkError) as raised:
        brickwork.secrets.set("bad name", VALUE)
    assert raised.value.status == 422 and "name" in raised.value.fields
    assert VALUE not in str(raised.value)


@pytest.mark.django_db(transaction=True)
def test_a_secret_set_through_the_api_is_sent_and_never_recorded(api, worker, http_server):
    # Given a secret set through the API, and a published workflow that sends it
    http_server.clear()
    assert api.put("/secrets/CRM_TOKEN", {"value": VALUE}).status_code == 201
    definition = {
        "name": "Sync contact",
        "steps": [
            {
                "key": "call",
                "action": "http.request",
                "input": {
                    "url": http_server.url + "/contacts",
                    "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
                },
            }
        ],
    }
    assert api.put("/workflows/sync?publish=1", definition).status_code == 201
    # When it runs
    started = api.post("/workflows/sync/runs", {"input": {}})
    assert started.status_code == 202
    run = wait_for(Run.objects.get(id=started.json()["id"]))
    # Then the server received the secret in the Authorization header
    assert run.status == "succeeded", run.error
    assert http_server.requests[-1]["headers"]["Authorization"] == f"Bearer {VALUE}"
    # And nothing stored about the run, nor any API answer about it, holds the value
    stored = json.dumps(
        [
            Run.objects.filter(id=run.id).values().get(),
            list(run.steps.values()),
            list(run.attempts.values()),
            list(RunEvent.objects.filter(run=run).values()),
        ],
        default=str,
    )
    assert VALUE not in stored
    assert VALUE not in api.get(f"/runs/{run.id}").content.decode()
    assert VALUE not in api.get("/secrets").content.decode()
