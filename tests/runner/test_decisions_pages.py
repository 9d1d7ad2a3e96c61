"""Decisions as people and programs see them: the run page's timeline and the API's run."""

import pytest

from core.models import ApiKey
from tests.runs import start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = [
    {"key": "check", "action": "debug.echo", "input": {"total": "{{ input.total }}"}},
    {
        "key": "route",
        "type": "switch",
        "cases": [{"name": "big", "when": "steps.check.output.total > 1000", "next": ["big"]}],
        "default": ["small"],
    },
    {"key": "big", "action": "debug.echo", "after": ["route"]},
    {
        "key": "small",
        "action": "debug.fail",
        "after": ["route"],
        "input": {"retryable": False, "message": "nope"},
        "on_error": [{"match": ["non_retryable"], "next": ["handler"]}],
    },
    {"key": "handler", "action": "debug.echo", "after": ["small"]},
    {"key": "vip", "action": "debug.echo", "after": ["check"], "when": "input.vip == true"},
]


def test_the_timeline_shows_why(worker, workspace, alice, client):
    run = wait_for(start(workspace, STEPS, {"total": 5}))
    assert run.status == "succeeded", run.error
    client.force_login(alice)
    html = client.get(f"/w/acme/runs/{run.id}/").content.decode()
    assert 'data-step-status="skipped">' in html
    assert "condition false: input.vip == true" in html
    assert "branch not taken: route chose default" in html
    assert "default: no case&#x27;s condition held" in html
    assert "handled by on_error[0] (non_retryable): runs handler" in html
    assert 'title="An on_error route handled this failure">handled</span>' in html
    assert '<span class="ref">switch</span>' in html


def test_the_api_gives_statuses_reasons_and_routes(worker, workspace, client):
    run = wait_for(start(workspace, STEPS, {"total": 5000, "vip": True}))
    key = ApiKey.issue(workspace, "tests")[1]
    body = client.get(f"/api/v1/runs/{run.id}", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    steps = {s["key"]: s for s in body["steps"]}
    assert body["status"] == "succeeded"
    assert steps["route"]["type"] == "switch" and steps["route"]["action"] is None
    assert steps["route"]["output"] == {"case": "big", "index": 0}
    assert steps["route"]["why"] == "case big: steps.check.output.total > 1000"
    assert steps["small"]["status"] == "skipped"
    assert steps["small"]["why"] == "branch not taken: route chose big"
    assert steps["handler"]["status"] == "skipped"
    assert steps["vip"]["status"] == "succeeded" and steps["vip"]["handled"] is False

    run = wait_for(start(workspace, STEPS, {"total": 5}))
    body = client.get(f"/api/v1/runs/{run.id}", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    small = next(s for s in body["steps"] if s["key"] == "small")
    assert small["status"] == "failed" and small["handled"] is True
    assert small["route"] == {"route": 0, "match": "non_retryable", "next": ["handler"]}
