"""`/api/v1/workflows/<slug>`: import/export of definitions, publishing, starting runs."""

import copy

import pytest

from builder.models import Workflow
from runner.models import Run
from tests.api import ECHO_WORKFLOW, error_of

pytestmark = pytest.mark.django_db


def test_put_validates_with_the_definition_validator(api):
    bad = {"steps": [{"key": "Bad Key", "action": "nope.nothing"}, {"key": "b"}]}
    response = api.put("/workflows/onboarding", bad)
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert {"steps[0].key", "steps[0].action", "steps[1].action"} <= fields.keys()
    assert not Workflow.objects.exists()


def test_put_creates_then_updates_the_draft_and_get_gives_it_back(api):
    response = api.put("/workflows/echo", ECHO_WORKFLOW)
    assert response.status_code == 201
    assert response.json()["latest_version"] is None
    changed = {**ECHO_WORKFLOW, "name": "Echo, renamed"}
    assert api.put("/workflows/echo", changed).status_code == 200
    body = api.get("/workflows/echo").json()
    assert body["name"] == "Echo, renamed" and body["definition"] == changed


def test_publish_makes_a_version_only_when_the_definition_changed(api):
    first = api.put("/workflows/echo?publish=1", ECHO_WORKFLOW).json()["latest_version"]
    assert first["number"] == 1
    assert first["definition"]["steps"][0]["action"] == "debug.echo@1"  # pinned
    again = api.put("/workflows/echo?publish=1", ECHO_WORKFLOW).json()["latest_version"]
    assert again["number"] == 1
    changed = copy.deepcopy(ECHO_WORKFLOW)
    changed["steps"][1]["input"] = {"m": 2}
    assert api.put("/workflows/echo?publish=1", changed).json()["latest_version"]["number"] == 2
    assert api.put("/workflows/echo", ECHO_WORKFLOW).json()["latest_version"]["number"] == 2


@pytest.mark.parametrize(
    "definition,field",
    [
        ({**ECHO_WORKFLOW, "name": "x" * 201}, "name"),
        ({**ECHO_WORKFLOW, "description": {"no": 1}}, "description"),
        ([1, 2], "body"),
    ],
)
def test_put_refuses_what_cannot_be_stored(api, definition, field):
    response = api.put("/workflows/echo", definition)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_slugs_are_checked(api):
    assert api.put("/workflows/not%20a%20slug", ECHO_WORKFLOW).status_code == 422
    assert api.get("/workflows/not%20a%20slug").status_code == 404
    assert api.get("/workflows/missing").status_code == 404


def test_running_an_unpublished_workflow_is_409(api):
    api.put("/workflows/echo", ECHO_WORKFLOW)
    response = api.post("/workflows/echo/runs", {"input": {"n": 1}})
    assert response.status_code == 409
    assert error_of(response)["code"] == "not_published"


def test_input_is_checked_against_the_input_schema(api, echo_workflow):
    response = api.post("/workflows/echo/runs", {"input": {"n": "one"}})
    assert response.status_code == 422
    assert "input.n" in error_of(response)["fields"]
    assert not Run.objects.exists()


def test_a_run_of_a_named_version(api, echo_workflow):
    response = api.post("/workflows/echo/runs", {"input": {"n": 1}, "version": 1})
    assert response.status_code == 202
    assert response.json()["workflow"] == "echo" and response.json()["workflow_version"] == 1
    missing = api.post("/workflows/echo/runs", {"input": {"n": 1}, "version": 7})
    assert missing.status_code == 422 and "version" in error_of(missing)["fields"]


def test_an_empty_body_runs_the_workflow_with_an_empty_input(api, echo_workflow):
    # The echo workflow needs `n`: the empty input is checked like any other
    response = api.post("/workflows/echo/runs", raw="")
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["input.n"]
    api.put("/workflows/plain?publish=1", {"steps": [{"key": "a", "action": "debug.echo"}]})
    response = api.post("/workflows/plain/runs", raw="")
    assert response.status_code == 202, response.content
    assert response.json()["input"] == {} and response.json()["workflow"] == "plain"
