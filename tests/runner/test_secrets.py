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
