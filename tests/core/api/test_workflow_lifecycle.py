"""Listing, archiving, unarchiving and deleting workflows through the API."""

import pytest

from builder.models import Trigger, Workflow
from core.models import ApiKey
from runner.models import Run
from tests.api import ECHO_WORKFLOW, Api, error_of

pytestmark = pytest.mark.django_db


def test_list_archive_unarchive(api, workspace, echo_workflow):
    # Given a published workflow and an empty draft
    Workflow.objects.create(workspace=workspace, slug="draft", name="A draft")
    listed = api.get("/workflows").json()
    assert [(w["slug"], w["latest_version"]) for w in listed] == [("draft", None), ("echo", 1)]
    # When it is archived
    archived = api.post("/workflows/echo/archive")
    assert archived.status_code == 200 and archived.json()["archived_at"]
    # Then it leaves the list, into the archived list, and starts no run
    assert [w["slug"] for w in api.get("/workflows").json()] == ["draft"]
    assert [w["slug"] for w in api.get("/workflows?archived=true").json()] == ["echo"]
    refused = api.post("/workflows/echo/runs", {"input": {"n": 1}})
    assert refused.status_code == 409 and error_of(refused)["code"] == "archived"
    assert not Run.objects.exists()
    # And unarchived, it runs again
    assert api.post("/workflows/echo/unarchive").json()["archived_at"] is None
    assert api.post("/workflows/echo/runs", {"input": {"n": 1}}).status_code == 202


def test_an_archived_workflows_webhook_starts_no_run(client, api, echo_workflow):
    trigger = Trigger.objects.create(workflow=echo_workflow, token=Trigger.new_token())
    api.post("/workflows/echo/archive")
    response = client.post(f"/hooks/{trigger.token}", {"n": 1}, content_type="application/json")
    assert response.status_code == 409
    assert not Run.objects.exists()


def test_delete_needs_archive_first_and_keeps_the_runs(api, workspace, echo_workflow):
    run_id = api.post("/workflows/echo/runs", {"input": {"n": 1}}).json()["id"]
    refused = api.delete("/workflows/echo")
    assert refused.status_code == 409 and error_of(refused)["code"] == "not_archived"
    api.post("/workflows/echo/archive")
    assert api.delete("/workflows/echo").status_code == 204
    assert api.get("/workflows/echo").status_code == 404
    # The run stays, with the definition it ran, under no workflow
    run = api.get(f"/runs/{run_id}").json()
    assert run["workflow"] is None and Run.objects.get(id=run_id).definition["steps"]
    # And the slug can be used again
    assert api.put("/workflows/echo", ECHO_WORKFLOW).status_code == 201


def test_another_workspaces_workflow_is_not_found(api, other_workspace):
    theirs = Api(api.client, ApiKey.issue(other_workspace, "theirs")[1])
    theirs.put("/workflows/theirs", ECHO_WORKFLOW)
    assert api.get("/workflows").json() == []
    for method, path in [
        ("POST", "/workflows/theirs/archive"),
        ("POST", "/workflows/theirs/unarchive"),
        ("DELETE", "/workflows/theirs"),
    ]:
        assert api.call(method, path).status_code == 404, path
    assert Workflow.objects.get(slug="theirs").archived_at is None


def test_versions_are_listed_and_read_and_a_definition_is_checked_without_saving(
    api, echo_workflow
):
    [listed] = api.get("/workflows/echo/versions").json()
    assert listed["number"] == 1 and listed["definition"]["steps"][0]["key"] == "first"
    assert api.get("/workflows/echo/versions/1").json() == listed
    assert api.get("/workflows/echo/versions/2").status_code == 404
    # A definition is checked as the import checks it, and nothing is saved
    broken = {"name": "x", "steps": [{"key": "a", "action": "no.such"}]}
    refused = api.post("/workflows/echo/validate", broken)
    assert refused.status_code == 422 and error_of(refused)["fields"]
    fine = api.post("/workflows/echo/validate", ECHO_WORKFLOW)
    assert fine.status_code == 200 and fine.json()["definition"]["steps"][0]["action"]
    echo_workflow.refresh_from_db()
    assert echo_workflow.versions.count() == 1 and echo_workflow.draft == ECHO_WORKFLOW
