"""`POST /api/v1/runs/<id>/events/<name>`, `/approve`, `/reject`: resuming waits through
the API, its errors, roles, and the wall between workspaces."""

import pytest

from core.audit import AuditEntry
from core.models import ApiKey
from tests.api import Api, error_of
from tests.runs import start

pytestmark = pytest.mark.django_db

EVENT = [
    {"key": "pay", "type": "event", "event": "payment_received"},
    {"key": "ship", "action": "debug.echo"},
]
APPROVAL = [{"key": "review", "type": "approval", "role": "owner"}]


def _step(run, key):
    return run.steps.get(key=key, kind="action")


def test_an_event_resumes_the_waiting_step_with_the_body(api, workspace):
    run = start(workspace, EVENT)
    assert _step(run, "pay").status == "waiting"
    detail = api.get(f"/runs/{run.id}").json()["steps"][0]
    assert detail["type"] == "event" and detail["waiting_for"] == "event:payment_received"
    response = api.post(f"/runs/{run.id}/events/payment_received", {"amount": 42})
    assert response.status_code == 200, response.content
    assert response.json()["resumed"] == ["pay"]
    assert _step(run, "pay").output == {"amount": 42}
    assert _step(run, "ship").status == "running"
    again = api.post(f"/runs/{run.id}/events/payment_received", {"amount": 1})
    assert again.status_code == 409
    assert error_of(again)["code"] == "invalid_transition"


def test_an_empty_event_body_is_a_null_output(api, workspace):
    run = start(workspace, EVENT)
    response = api.call("POST", f"/runs/{run.id}/events/payment_received", raw="")
    assert response.status_code == 200, response.content
    assert _step(run, "pay").status == "succeeded" and _step(run, "pay").output is None


@pytest.mark.parametrize(
    ("path", "raw", "status"),
    [
        ("/events/payment_received", "{not json", 400),
        ("/events/bad%20name", "{}", 422),
        ("/events/nobody_waits", "{}", 409),
    ],
)
def test_bad_events_answer_the_error_shape(api, workspace, path, raw, status):
    run = start(workspace, EVENT)
    response = api.call("POST", f"/runs/{run.id}{path}", raw=raw)
    assert response.status_code == status, response.content
    error_of(response)
    assert _step(run, "pay").status == "waiting"


def test_another_workspaces_run_is_404(client, workspace, other_workspace):
    run = start(workspace, EVENT + APPROVAL[:0])
    approval = start(workspace, APPROVAL)
    stranger = Api(client, ApiKey.issue(other_workspace, "theirs", "owner")[1])
    for path in (f"/runs/{run.id}/events/payment_received", f"/runs/{approval.id}/approve",
                 f"/runs/{approval.id}/reject"):  # fmt: skip
        response = stranger.post(path, {})
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert _step(run, "pay").status == "waiting"
    assert _step(approval, "review").status == "waiting"


def test_approve_and_reject_record_who_and_why(client, workspace):
    owner = Api(client, ApiKey.issue(workspace, "release bot", "owner")[1])
    run = start(workspace, APPROVAL)
    response = owner.post(f"/runs/{run.id}/approve", {"step": "review", "comment": "ship it"})
    assert response.status_code == 200, response.content
    assert response.json()["step"] == "review"
    assert response.json()["run"]["status"] == "succeeded"
    assert _step(run, "review").output == {
        "approved": True,
        "by": "API key release bot",
        "comment": "ship it",
    }
    rejected = start(workspace, APPROVAL)
    assert owner.post(f"/runs/{rejected.id}/reject", {}).status_code == 200
    assert _step(rejected, "review").output["approved"] is False
    assert owner.post(f"/runs/{rejected.id}/reject", {}).status_code == 409
    # Both decisions are in the audit log, by the key, naming the step (not the comment)
    entries = AuditEntry.objects.filter(action__in=["run.approve", "run.reject"])
    found = sorted(entries.values_list("action", "object_id", "actor_label", "data"))
    assert found == [
        ("run.approve", str(run.id), "release bot", {"step": "review"}),
        ("run.reject", str(rejected.id), "release bot", {"step": "review"}),
    ]


def test_roles_below_the_steps_cannot_decide(client, workspace, api):
    run = start(workspace, APPROVAL)  # an owner's decision
    editor = api.post(f"/runs/{run.id}/approve", {})
    assert editor.status_code == 403
    assert "owner" in error_of(editor)["message"]
    viewer = Api(client, ApiKey.issue(workspace, "dashboard", "viewer")[1])
    assert viewer.post(f"/runs/{run.id}/approve", {}).status_code == 403
    assert viewer.post(f"/runs/{run.id}/events/payment_received", {}).status_code == 403
    assert _step(run, "review").status == "waiting"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"step": 3}, "step"), ({"comment": "x" * 2001}, "comment"), ({"nope": 1}, "nope")],
)
def test_bad_decisions_are_422(api, workspace, body, field):
    run = start(workspace, [{"key": "review", "type": "approval"}])
    response = api.post(f"/runs/{run.id}/approve", body)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_a_step_that_is_no_waiting_approval_is_409(api, workspace):
    run = start(workspace, [{"key": "review", "type": "approval"}, {"key": "b", "type": "approval",
                                                                    "after": []}])  # fmt: skip
    several = api.post(f"/runs/{run.id}/approve", {})
    assert several.status_code == 409 and "name the step" in error_of(several)["message"]
    assert api.post(f"/runs/{run.id}/approve", {"step": "nope"}).status_code == 409
    assert api.post(f"/runs/{run.id}/approve", {"step": "b"}).status_code == 200
