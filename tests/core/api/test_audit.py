"""The audit log through the API: what an owner key's requests record (the key is the
actor), and `GET /api/v1/audit` with its filters, cursor, and owner keys only."""

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Model

from core.audit import AuditEntry
from core.models import ApiKey, Membership
from runner.launch import start_run
from runner.models import ActionLimit, AlertRule, Run, Schedule
from tests.api import ECHO_WORKFLOW, Api, error_of
from tests.personas import make_user

pytestmark = pytest.mark.django_db
SECRET_VALUE = "s3cr3t-value-never-logged"


@pytest.fixture
def ops(client, workspace):
    """An owner key named "ops": it may do everything, members included."""
    return Api(client, ApiKey.issue(workspace, "ops", role="owner")[1])


def _run(workflow, status=None):
    run = start_run(
        workspace=workflow.workspace,
        definition=workflow.latest_version().definition,
        input={"n": 1},
        workflow=workflow,
        workflow_version=workflow.latest_version(),
    )
    if status:
        Run.objects.filter(id=run.id).update(status=status)
    return run


def _schedule(wf):
    return Schedule.objects.create(
        workspace=wf.workspace, workflow=wf, name="nightly", cron="@daily", next_fire_at=None
    )


def _limit(wf):
    return ActionLimit.objects.create(
        workspace=wf.workspace, name="hosts", action="http.request", max_concurrent=2
    )


def _rule(wf):
    return AlertRule.objects.create(
        workspace=wf.workspace, name="On-call", events=["failed"], email_to="a@example.com"
    )


def _member(wf):
    return Membership.objects.create(workspace=wf.workspace, user=make_user("dave"), role="editor")


# (action, how the API is asked: setup(workflow) -> object, then the request; the object
# type and the id the entry must name, from what setup made or what the answer says)
CASES = [
    ("workflow.import", None, lambda o: ("PUT", "/workflows/echo", ECHO_WORKFLOW)),
    ("workflow.publish", None, lambda o: ("PUT", "/workflows/echo?publish=1", {
        **ECHO_WORKFLOW, "name": "Echo again"})),
    ("workflow.archive", None, lambda o: ("POST", "/workflows/echo/archive", None)),
    ("workflow.delete", lambda wf: wf.set_archived(True),
     lambda o: ("DELETE", "/workflows/echo", None)),
    ("run.start", None, lambda o: ("POST", "/workflows/echo/runs", {"input": {"n": 2}})),
    ("run.rerun", _run, lambda o: ("POST", f"/runs/{o.id}/rerun", {})),
    ("run.cancel", _run, lambda o: ("POST", f"/runs/{o.id}/cancel", None)),
    ("run.resolve", lambda wf: _run(wf, "failed"),
     lambda o: ("POST", "/failures/resolve", {"runs": [o.id], "note": "refunded"})),
    ("run.reopen", lambda wf: _run(wf, "failed"),
     lambda o: ("POST", "/failures/reopen", {"runs": [o.id]})),
    ("trigger.create", None, lambda o: ("POST", "/workflows/echo/triggers", {"name": "crm"})),
    ("schedule.create", None, lambda o: ("POST", "/workflows/echo/schedules", {
        "name": "x", "cron": "@daily"})),
    ("schedule.update", _schedule,
     lambda o: ("PATCH", f"/workflows/echo/schedules/{o.id}", {"paused": True})),
    ("schedule.delete", _schedule,
     lambda o: ("DELETE", f"/workflows/echo/schedules/{o.id}", None)),
    ("limit.create", None, lambda o: ("POST", "/limits", {
        "name": "hosts", "action": "http.request", "max_concurrent": 3})),
    ("limit.update", _limit, lambda o: ("PATCH", f"/limits/{o.id}", {"max_concurrent": 4})),
    ("limit.delete", _limit, lambda o: ("DELETE", f"/limits/{o.id}", None)),
    ("alert_rule.create", None, lambda o: ("POST", "/alerts/rules", {
        "name": "On-call", "events": ["failed"], "email_to": ["a@example.com"]})),
    ("alert_rule.update", _rule, lambda o: ("PATCH", f"/alerts/rules/{o.id}", {"window_s": 60})),
    ("alert_rule.delete", _rule, lambda o: ("DELETE", f"/alerts/rules/{o.id}", None)),
    ("secret.create", None, lambda o: ("PUT", "/secrets/CRM_TOKEN", {"value": SECRET_VALUE})),
    ("api_key.create", None, lambda o: ("POST", "/api-keys", {"name": "ci", "role": "viewer"})),
    ("api_key.revoke", lambda wf: ApiKey.issue(wf.workspace, "old")[0],
     lambda o: ("POST", f"/api-keys/{o.id}/revoke", None)),
    ("member.add", lambda wf: make_user("dave"),
     lambda o: ("POST", "/members", {"username": "dave", "role": "viewer"})),
    ("member.role", _member, lambda o: ("PATCH", f"/members/{o.id}", {"role": "viewer"})),
    ("member.remove", _member, lambda o: ("DELETE", f"/members/{o.id}", None)),
    ("workspace.retention", None, lambda o: ("PUT", "/retention", {
        "keep_runs_days": 7, "keep_failed_runs_days": 60})),
]  # fmt: skip


@pytest.mark.parametrize(("action", "setup", "ask"), CASES, ids=[c[0] for c in CASES])
def test_each_change_through_the_api_is_recorded_with_the_key_as_actor(
    ops, workspace, echo_workflow, action, setup, ask
):
    # Given what the change needs
    made = setup(echo_workflow) if setup else None
    before = AuditEntry.objects.order_by("id").values_list("id", flat=True).last() or 0
    # When the owner key asks for it
    method, path, body = ask(made)
    response = ops.call(method, path, body, headers={"User-Agent": "ops-script/1.0"})
    assert response.status_code < 300, response.content
    # Then one entry says what, by which key, on which object, from where
    [entry] = AuditEntry.objects.filter(id__gt=before, action=action)
    assert entry.workspace_id == workspace.id
    assert entry.actor_kind == "api_key" and entry.actor_label == "ops"
    assert entry.actor_api_key.name == "ops" and entry.actor_user is None
    assert entry.ip == "127.0.0.1" and entry.user_agent == "ops-script/1.0"
    assert entry.object_type == action.split(".")[0] and entry.object_id
    if isinstance(made, Model) and action not in ("run.rerun", "member.add"):
        assert entry.object_id == str(made.pk)
    if action.startswith("workflow."):
        assert entry.object_id == str(echo_workflow.id) and entry.object_type == "workflow"


def test_secret_values_are_never_in_an_entry(ops, workspace):
    # Given a secret created, replaced and deleted through the API
    assert ops.put("/secrets/CRM_TOKEN", {"value": SECRET_VALUE}).status_code == 201
    assert ops.put("/secrets/CRM_TOKEN", {"value": SECRET_VALUE + "-2"}).status_code == 200
    assert ops.delete("/secrets/CRM_TOKEN").status_code == 204
    # Then the three are recorded by name, and no value is anywhere in the log
    entries = AuditEntry.objects.filter(action__startswith="secret.").order_by("id")
    assert [(e.action, e.object_label) for e in entries] == [
        ("secret.create", "CRM_TOKEN"),
        ("secret.replace", "CRM_TOKEN"),
        ("secret.delete", "CRM_TOKEN"),
    ]
    page = ops.get("/audit").content.decode()
    assert "CRM_TOKEN" in page and SECRET_VALUE not in page
    for entry in AuditEntry.objects.all():
        assert SECRET_VALUE not in str(entry.data) + entry.object_label


def test_an_alert_rules_webhook_secret_is_named_not_recorded(ops):
    body = {"name": "Hook", "events": ["failed"], "webhook_url": "https://hooks.example.com/a"}
    assert ops.post("/alerts/rules", {**body, "webhook_secret": SECRET_VALUE}).status_code == 201
    entry = AuditEntry.objects.get(action="alert_rule.create")
    assert "webhook_secret" in entry.data["fields"] and SECRET_VALUE not in str(entry.data)


def test_the_log_lists_newest_first_with_filters_and_a_cursor(ops, workspace, echo_workflow):
    # Given a few changes by the key
    ops.post("/workflows/echo/archive")
    ops.post("/workflows/echo/unarchive")
    ops.put("/secrets/CRM_TOKEN", {"value": SECRET_VALUE})
    ops.put("/retention", {"keep_runs_days": 7, "keep_failed_runs_days": 60})
    # Then they list newest first, in pages of `limit`
    first = ops.get("/audit?limit=2").json()
    assert [i["action"] for i in first["items"]] == ["workspace.retention", "secret.create"]
    assert first["items"][0]["actor"] == {"kind": "api_key", "name": "ops"}
    second = ops.get(f"/audit?limit=2&cursor={first['next_cursor']}").json()
    assert [i["action"] for i in second["items"]][:2] == ["workflow.unarchive", "workflow.archive"]
    # And each filter narrows them
    family = ops.get("/audit?action=workflow").json()["items"]
    assert {i["action"] for i in family} == {
        "workflow.archive",
        "workflow.unarchive",
        "workflow.publish",
    }
    assert [i["action"] for i in ops.get("/audit?action=workflow.archive").json()["items"]] == [
        "workflow.archive"
    ]
    mine = ops.get(f"/audit?object=workflow:{echo_workflow.id}").json()["items"]
    assert mine and {i["object"]["id"] for i in mine} == {str(echo_workflow.id)}
    assert ops.get("/audit?actor=ops").json()["items"]
    assert ops.get("/audit?actor=nobody").json()["items"] == []
    assert ops.get("/audit?since=2999-01-01T00:00:00Z").json()["items"] == []
    assert len(ops.get("/audit?until=2999-01-01T00:00:00Z&limit=200").json()["items"]) >= 5


def test_bad_filters_get_the_error_shape(ops):
    for query in ("action=DROP TABLE", "cursor=abc", "limit=0", "since=yesterday", "stauts=x"):
        response = ops.get(f"/audit?{query}")
        assert response.status_code == 422, query
        error_of(response)


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_owner_keys_read_the_log(client, workspace, role):
    key = ApiKey.issue(workspace, role, role=role)[1]
    response = Api(client, key).get("/audit")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_another_workspace_entries_are_not_listed(ops, other_workspace):
    other = Api(ops.client, ApiKey.issue(other_workspace, "theirs", role="owner")[1])
    other.put("/secrets/THEIR_TOKEN", {"value": SECRET_VALUE})
    assert "THEIR_TOKEN" not in ops.get("/audit").content.decode()
    assert get_user_model().objects.count() == 0  # no person needed for any of this
