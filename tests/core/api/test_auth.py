"""Bearer keys: 401 without a valid one, 404 for every object of another workspace."""

import pytest
from django.core.management import CommandError, call_command

from builder.models import Trigger
from core.models import ApiKey, Workspace
from tests.api import Api, error_of
from tests.runs import start

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer nope", "Bearer bw_wrong", "Basic dXNlcjpwYXNz", "bw_x"],
)
def test_no_or_bad_key_is_401_in_the_error_shape(client, workspace, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/api/v1/actions", headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_valid_key_works_and_records_its_last_use(api, workspace):
    assert api.get("/actions").status_code == 200
    key = ApiKey.objects.get(workspace=workspace)
    assert key.last_used_at is not None


def test_a_revoked_key_is_401(api, workspace):
    assert api.get("/actions").status_code == 200
    ApiKey.objects.get(workspace=workspace).revoke()
    response = api.get("/actions")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_another_workspace_key_gets_404_for_every_object(
    client, workspace, other_workspace, echo_workflow
):
    # Given a run and a trigger of workspace A, and a key of workspace B
    run = start(workspace, [{"key": "a", "action": "debug.echo"}])
    trigger = Trigger.objects.create(workflow=echo_workflow, token=Trigger.new_token())
    other = Api(client, ApiKey.issue(other_workspace, "b")[1])
    hook = f"/workflows/echo/triggers/{trigger.id}"
    # When B asks for each of them, Then every answer is a 404 in the error shape
    calls = [
        ("GET", f"/runs/{run.id}", None),
        ("POST", f"/runs/{run.id}/cancel", None),
        ("POST", f"/runs/{run.id}/rerun", {"from": "start"}),
        ("GET", "/workflows/echo", None),
        ("POST", "/workflows/echo/runs", {"input": {"n": 1}}),
        ("GET", "/workflows/echo/triggers", None),
        ("POST", "/workflows/echo/triggers", {}),
        ("GET", hook, None),
        ("PATCH", hook, {"enabled": False}),
        ("DELETE", hook, None),
        ("GET", f"{hook}/deliveries", None),
    ]
    for method, path, body in calls:
        response = other.call(method, path, body)
        assert response.status_code == 404, (method, path, response.content)
        assert error_of(response)["code"] == "not_found"
    # And B's list of runs does not show A's
    assert other.get("/runs").json()["items"] == []
    # And nothing of A changed
    trigger.refresh_from_db()
    assert trigger.enabled
    run.refresh_from_db()
    assert run.status == "queued"


def test_a_put_with_another_workspace_key_makes_its_own_workflow(
    client, workspace, other_workspace, echo_workflow
):
    other = Api(client, ApiKey.issue(other_workspace, "b")[1])
    response = other.put("/workflows/echo", {"steps": [{"key": "x", "action": "debug.echo"}]})
    assert response.status_code == 201
    echo_workflow.refresh_from_db()
    assert echo_workflow.draft["name"] == "Echo twice"


def test_createapikey_prints_the_key_alone_on_the_last_line(capsys):
    call_command("createapikey", "--workspace", "Initech", "--create", "--name", "ci")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    workspace = Workspace.objects.get(name="Initech")
    key = ApiKey.authenticate(last)
    assert key is not None and key.workspace == workspace and key.name == "ci"
    assert not workspace.memberships.exists()
    # Again, by slug, without --create: a second key of the same workspace
    call_command("createapikey", "--workspace", workspace.slug, "--name", "ci2")
    assert ApiKey.objects.filter(workspace=workspace).count() == 2


def test_createapikey_without_create_refuses_an_unknown_workspace():
    with pytest.raises(CommandError, match="--create"):
        call_command("createapikey", "--workspace", "Nope", "--name", "ci")
    assert not Workspace.objects.filter(name="Nope").exists()
