"""A secret reaches the action and nothing else: not the step, the attempt, the events."""

import json

import pytest

from core.models import Secret
from runner.models import RunEvent
from tests.runs import start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "sk_live_very_secret_value_42"


def test_secret_is_sent_but_never_recorded(worker, workspace, http_server):
    http_server.clear()
    Secret.objects.create(workspace=workspace, name="CRM_TOKEN", value=TOKEN)
    http_server.respond("/fail", [(500, {"detail": f"bad token {TOKEN}"}, {})])
    run = start(
        workspace,
        [
            {
                "key": "call",
                "action": "http.request",
                "input": {
                    "url": http_server.url + "/echo",
                    "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
                },
            },
            {
                "key": "fail",
                "action": "http.request",
                "input": {
                    "url": http_server.url + "/fail",
                    "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
                },
                "retry": {"max_attempts": 1},
            },
        ],
    )
    run = wait_for(run)
    assert run.status == "failed"
    received = [r["headers"]["Authorization"] for r in http_server.requests]
    assert received == [f"Bearer {TOKEN}", f"Bearer {TOKEN}"]
    call = run.steps.get(key="call")
    assert call.input["headers"]["Authorization"] == "Bearer {{ secrets.CRM_TOKEN }}"
    assert call.output["body"]["echo"]["headers"]["Authorization"] == "Bearer ***"
    history = json.dumps(
        [
            list(run.steps.values()),
            list(run.attempts.values("output", "error")),
            list(RunEvent.objects.filter(run=run).values()),
            run.error,
        ],
        default=str,
    )
    assert TOKEN not in history


def test_a_secret_reference_arriving_in_the_data_stays_text(worker, workspace, http_server):
    # Given a step that posts text from the run input, and a secret in the workspace
    http_server.clear()
    Secret.objects.create(workspace=workspace, name="CRM_TOKEN", value=TOKEN)
    run = start(
        workspace,
        [
            {
                "key": "post",
                "action": "http.request",
                "input": {
                    "method": "POST",
                    "url": http_server.url + "/notes",
                    "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"},
                    "json": {"text": "{{ input.text }}", "note": "from {{ input.text }}"},
                },
            }
        ],
        # When an outsider sends the text of a secret reference as data
        input={"text": "{{ secrets.CRM_TOKEN }}"},
    )
    run = wait_for(run)
    # Then the definition's own reference is filled and the outsider's is not
    assert run.status == "succeeded"
    sent = http_server.requests[-1]
    assert sent["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(sent["body"]) == {
        "text": "{{ secrets.CRM_TOKEN }}",
        "note": "from {{ secrets.CRM_TOKEN }}",
    }
