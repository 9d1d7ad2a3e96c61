"""`POST /hooks/<token>?run=<id>&event=<name>`: a webhook delivery resumes a run of the
trigger's workflow that waits for the event; any other run is 404."""

import json

import pytest

from builder.definition import validate
from builder.models import Trigger, WebhookDelivery, Workflow
from runner import launch
from tests.api import error_of

pytestmark = pytest.mark.django_db

DEFINITION = {
    "name": "Pay",
    "steps": [
        {"key": "pay", "type": "event", "event": "payment_received"},
        {"key": "ship", "action": "debug.echo"},
    ],
}


@pytest.fixture
def workflow(workspace):
    workflow = Workflow.objects.create(workspace=workspace, slug="pay", name="Pay")
    workflow.publish(validate(DEFINITION, workspace))
    return workflow


def _run(workflow):
    version = workflow.versions.order_by("-number").first()
    return launch.start_run(
        workspace=workflow.workspace, definition=version.definition, input={},
        workflow=workflow, workflow_version=version,
    )  # fmt: skip


def _post(client, trigger, query, body):
    return client.post(f"/hooks/{trigger.token}?{query}", json.dumps(body),
                       content_type="application/json")  # fmt: skip


def test_a_delivery_naming_the_run_resumes_its_waiting_step(client, workflow):
    trigger = Trigger.objects.create(workflow=workflow, token=Trigger.new_token())
    run = _run(workflow)
    response = _post(client, trigger, f"run={run.id}&event=payment_received", {"amount": 7})
    assert response.status_code == 200, response.content
    assert response.json() == {"run": run.id, "event": "payment_received", "resumed": ["pay"]}
    assert run.steps.get(key="pay").output == {"amount": 7}
    assert workflow.runs.count() == 1  # no run started
    delivery = WebhookDelivery.objects.get(trigger=trigger)
    assert delivery.run_id == run.id and "resumed pay" in delivery.message
    again = _post(client, trigger, f"run={run.id}&event=payment_received", {})
    assert again.status_code == 409 and error_of(again)["code"] == "invalid_transition"


def test_bad_or_foreign_runs_are_refused(client, workflow, workspace, other_workspace):
    trigger = Trigger.objects.create(workflow=workflow, token=Trigger.new_token())
    bad = _post(client, trigger, "run=abc&event=bad%20name", {})
    assert bad.status_code == 422
    assert set(error_of(bad)["fields"]) == {"run", "event"}
    theirs = Workflow.objects.create(workspace=other_workspace, slug="pay", name="Pay")
    theirs.publish(validate(DEFINITION, other_workspace))
    foreign = _run(theirs)
    response = _post(client, trigger, f"run={foreign.id}&event=payment_received", {})
    assert response.status_code == 404
    assert foreign.steps.get(key="pay").status == "waiting"
