""" "Test this step": a real one-step run of the step's action, executed by a real worker,
with references read from the sample input or the last run, and secrets filled only there."""

import json
import re
import time

import pytest
from django.test import Client

from builder.models import Workflow
from core.models import Secret
from runner.models import Run, StepRun
from runner.states import Trigger

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true"}
STEPS = [
    {"key": "fetch", "action": "debug.echo@1", "input": {}},
    {"key": "greet", "action": "debug.echo@1", "input": {}, "after": ["fetch"]},
]


@pytest.fixture
def workflow(workspace, alice):
    return Workflow.objects.create(
        workspace=workspace, slug="flow", name="Flow", draft={"steps": STEPS}, created_by=alice
    )


def client_of(user):
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return client


def test_step(client, index, value, sample="{}"):
    return client.post(
        f"/w/acme/workflows/flow/steps/{index}/test/",
        {"input": json.dumps(value), "sample_input": sample},
        **HTMX,
    )


test_step.__test__ = False  # a helper, not a test


def finished(client, response, timeout_s=20):
    """Poll the result the way the panel does, until it stops polling."""
    html = response.content.decode()
    deadline = time.monotonic() + timeout_s
    while 'hx-trigger="every 1s"' in html:
        assert time.monotonic() < deadline, "the test run never finished"
        time.sleep(0.2)
        poll = re.search(r'hx-get="([^"]+)"', html).group(1)
        html = client.get(poll, **HTMX).content.decode()
    return html


def test_the_step_runs_once_on_a_real_worker_and_shows_its_output(
    worker, workspace, workflow, alice
):
    # Given an earlier run whose `fetch` step returned a user, and a secret
    earlier = Run.objects.create(workspace=workspace, workflow=workflow, definition={}, input={})
    StepRun.objects.create(run=earlier, key="fetch", status="succeeded", output={"id": 42})
    Secret.objects.create(workspace=workspace, name="CRM_TOKEN", value="tok-very-secret")
    client = client_of(alice)
    # When she tests `greet` with a sample run input
    value = {
        "hello": "{{ input.name }}",
        "user": "{{ steps.fetch.output.id }}",
        "auth": "Bearer {{ secrets.CRM_TOKEN }}",
    }
    response = test_step(client, 1, value, sample='{"name": "Ada"}')
    assert response.status_code == 200
    html = finished(client, response)
    # Then a run of the action, triggered by the test, ran on the worker
    run = Run.objects.get(trigger=Trigger.TEST)
    assert run.status == "succeeded" and run.action.name == "debug.echo"
    assert run.workspace == workspace and run.workflow is None
    # (the worker filled the secret; the engine masks it in what it stores)
    assert run.output == {"hello": "Ada", "user": 42, "auth": "Bearer ***"}
    # And the panel shows the output, the secret masked, with a link to the run
    assert "succeeded" in html and "&quot;Ada&quot;" in html and "42" in html
    assert "tok-very-secret" not in html and "Bearer ***" in html
    assert f'href="/w/acme/runs/{run.id}/"' in html
    # And the secret never reached the step's recorded input
    step = run.steps.get()
    assert "tok-very-secret" not in json.dumps(step.input)


def test_an_error_of_the_action_is_shown(worker, workspace, alice):
    Workflow.objects.create(
        workspace=workspace,
        slug="flow",
        name="Flow",
        draft={"steps": [{"key": "nap", "action": "debug.fail@1", "input": {}}]},
    )
    client = client_of(alice)
    value = {"retryable": False, "message": "the CRM said no"}
    html = finished(client, test_step(client, 0, value))
    assert "failed" in html and "the CRM said no" in html


def test_missing_sample_data_and_bad_json_are_explained_not_run(workspace, workflow, alice):
    client = client_of(alice)
    html = test_step(client, 1, {"user": "{{ steps.fetch.output.id }}"}).content.decode()
    assert "Nothing at" in html and "steps.fetch.output.id" in html
    bad = client.post(
        "/w/acme/workflows/flow/steps/1/test/", {"input": "{", "sample_input": "{}"}, **HTMX
    )
    assert bad.status_code == 200 and "not valid JSON" in bad.content.decode()
    schema = test_step(client, 1, {}, sample="[1]").content.decode()
    assert "must be a JSON object" in schema
    assert not Run.objects.exists()


def test_only_editors_test_and_outsiders_see_nothing(workspace, workflow, bob, charlie, alice):
    assert test_step(client_of(bob), 1, {}).status_code == 404  # a viewer: as if absent
    assert test_step(client_of(charlie), 1, {}).status_code == 404
    assert test_step(client_of(alice), 7, {}).status_code == 404
    assert not Run.objects.exists()


def test_a_test_result_of_another_workspace_is_not_found(workspace, other_workspace, charlie):
    run = Run.objects.create(workspace=workspace, definition={}, input={}, trigger=Trigger.TEST)
    response = client_of(charlie).get(f"/w/globex/step-tests/{run.id}/", **HTMX)
    assert response.status_code == 404
