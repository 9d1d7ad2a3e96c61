"""The audit log from the browser's side: what each page's change records (the person is
the actor), the audit page for owners only, the read-only admin, failed sign-ins, and
the log's own retention."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from builder.definition import validate
from builder.models import Trigger, Workflow
from core.audit import AuditEntry
from core.models import ApiKey, Membership, Secret
from runner import pruning
from runner.launch import start_run
from runner.models import ActionLimit, AlertRule, Run, Schedule
from tests.api import ECHO_WORKFLOW
from tests.personas import PASSWORD, make_user

pytestmark = pytest.mark.django_db
SECRET_VALUE = "s3cr3t-page-value-never-logged"
W = "/w/acme"


@pytest.fixture
def owner(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def echo(workspace):
    workflow = Workflow.objects.create(
        workspace=workspace, slug="echo", name="Echo twice", draft=ECHO_WORKFLOW
    )
    workflow.publish(validate(ECHO_WORKFLOW, workspace))
    return workflow


def _run(wf, status=None):
    version = wf.latest_version()
    run = start_run(
        workspace=wf.workspace, definition=version.definition, input={"n": 1},
        workflow=wf, workflow_version=version,
    )  # fmt: skip
    if status:
        Run.objects.filter(id=run.id).update(status=status)
    return run


def _trigger(wf):
    return Trigger.objects.create(
        workflow=wf, name="crm", token=Trigger.new_token(), signature="timestamped",
        encrypted_secret="",
    )  # fmt: skip


def _schedule(wf):
    return Schedule.objects.create(workspace=wf.workspace, workflow=wf, name="n", cron="@daily")


def _secret(wf):
    return Secret.set(wf.workspace, "CRM_TOKEN", SECRET_VALUE)[0]


def _member(wf):
    return Membership.objects.create(workspace=wf.workspace, user=make_user("dave"), role="viewer")


# (action, setup(workflow) -> object, the page's POST: (path, form) from the object)
CASES = [
    ("workflow.publish", lambda wf: Workflow.objects.filter(id=wf.id).update(
        draft={**ECHO_WORKFLOW, "name": "Echo v2"}),
     lambda o: (f"{W}/workflows/echo/publish/", {"note": "v2"})),
    ("workflow.restore", None, lambda o: (f"{W}/workflows/echo/versions/1/restore/", {})),
    ("workflow.import", None, lambda o: (f"{W}/workflows/echo/import/", {
        "definition": '{"name": "Echo", "steps": [{"key": "a", "action": "debug.echo"}]}'})),
    ("workflow.archive", None, lambda o: (f"{W}/workflows/echo/archive/", {})),
    ("workflow.delete", lambda wf: wf.set_archived(True),
     lambda o: (f"{W}/workflows/echo/delete/", {})),
    ("run.start", None, lambda o: (f"{W}/workflows/echo/run/", {"input-n": "3"})),
    ("run.rerun", _run, lambda o: (f"{W}/runs/{o.id}/rerun", {
        "start_from": "start", "version": "pinned", "input_mode": "original"})),
    ("run.cancel", _run, lambda o: (f"{W}/runs/{o.id}/cancel", {})),
    ("run.resolve", lambda wf: _run(wf, "failed"), lambda o: (f"{W}/failures/bulk", {
        "runs": [o.id], "action": "resolve", "note": "refunded"})),
    ("trigger.create", None, lambda o: (f"{W}/workflows/echo/triggers/", {
        "name": "crm", "signature": "none", "input_mode": "envelope"})),
    ("trigger.update", _trigger, lambda o: (f"{W}/workflows/echo/triggers/{o.id}/toggle/", {})),
    ("trigger.delete", _trigger, lambda o: (f"{W}/workflows/echo/triggers/{o.id}/delete/", {})),
    ("schedule.create", None, lambda o: (f"{W}/workflows/echo/schedules/", {
        "name": "nightly", "cron": "@daily", "timezone": "UTC", "input": "{}",
        "overlap": "skip", "catchup_window_s": "3600"})),
    ("schedule.update", _schedule,
     lambda o: (f"{W}/workflows/echo/schedules/{o.id}/toggle/", {})),
    ("schedule.delete", _schedule,
     lambda o: (f"{W}/workflows/echo/schedules/{o.id}/delete/", {})),
    ("limit.create", None, lambda o: (f"{W}/limits/", {
        "name": "hosts", "action": "http.request", "key_part": "value",
        "max_concurrent": "2", "burst": "1"})),
    ("limit.delete", lambda wf: ActionLimit.objects.create(
        workspace=wf.workspace, name="hosts", action="http.request", max_concurrent=2),
     lambda o: (f"{W}/limits/{o.id}/delete", {})),
    ("alert_rule.create", None, lambda o: (f"{W}/alerts/new", {
        "name": "On-call", "events": ["failed"], "email_to": "a@example.com",
        "window_s": "3600"})),
    ("alert_rule.delete", lambda wf: AlertRule.objects.create(
        workspace=wf.workspace, name="On-call", events=["failed"], email_to="a@example.com"),
     lambda o: (f"{W}/alerts/{o.id}/delete", {})),
    ("secret.create", None, lambda o: (f"{W}/secrets/new", {
        "name": "CRM_TOKEN", "value": SECRET_VALUE})),
    ("secret.replace", _secret, lambda o: (f"{W}/secrets/CRM_TOKEN/replace", {
        "value": SECRET_VALUE + "-2"})),
    ("secret.delete", _secret, lambda o: (f"{W}/secrets/CRM_TOKEN/delete", {})),
    ("api_key.create", None, lambda o: (f"{W}/api-keys/new", {"name": "ci", "role": "viewer"})),
    ("api_key.revoke", lambda wf: ApiKey.issue(wf.workspace, "old")[0],
     lambda o: (f"{W}/api-keys/{o.id}/revoke", {})),
    ("member.add", lambda wf: make_user("dave"),
     lambda o: (f"{W}/members/add", {"username": "dave", "role": "viewer"})),
    ("member.role", _member, lambda o: (f"{W}/members/{o.id}/role", {"role": "editor"})),
    ("member.remove", _member, lambda o: (f"{W}/members/{o.id}/remove", {})),
    ("workspace.retention", None, lambda o: (f"{W}/settings/retention", {
        "keep_runs_days": "7", "keep_failed_runs_days": "60"})),
]  # fmt: skip


@pytest.mark.parametrize(("action", "setup", "post"), CASES, ids=[c[0] for c in CASES])
def test_each_change_on_a_page_is_recorded_with_the_person_as_actor(
    owner, alice, workspace, echo, action, setup, post
):
    # Given what the change needs
    made = setup(echo) if setup else None
    before = AuditEntry.objects.order_by("id").values_list("id", flat=True).last() or 0
    # When the owner makes it on its page
    path, form = post(made)
    response = owner.post(path, form, headers={"User-Agent": "Firefox/140"})
    html = response.content.decode()
    assert response.status_code in (200, 302), html[html.find("<main") :][:3000]
    # Then one entry says what, by whom, on which object, from where
    [entry] = AuditEntry.objects.filter(id__gt=before, action=action)
    assert entry.workspace_id == workspace.id
    assert entry.actor_kind == "user" and entry.actor_user == alice
    assert entry.actor_label == "alice" and entry.actor_api_key is None
    assert entry.ip == "127.0.0.1" and entry.user_agent == "Firefox/140"
    assert entry.object_type == action.split(".")[0] and entry.object_id and entry.object_label
    if action.startswith("workflow."):
        assert (entry.object_type, entry.object_id) == ("workflow", str(echo.id))
    if action == "run.rerun":
        assert entry.data["rerun_of"] == made.id and entry.object_id != str(made.id)
    elif isinstance(made, Run | Trigger | Schedule | Secret | ApiKey | Membership):
        assert entry.object_id == str(made.pk)
    assert SECRET_VALUE not in str(entry.data) + entry.object_label


def test_failed_sign_ins_and_the_lockout_are_recorded_without_a_workspace(client, settings):
    # Given at most 2 failures per name, and a name no other test signs in with
    settings.SIGN_IN_FAILURES_PER_NAME = 2
    name = f"carol{uuid.uuid4().hex[:8]}"
    make_user(name)
    # When someone guesses twice
    for guess in ("a", "b"):
        client.post("/login/", {"login": name, "password": guess}, headers={"User-Agent": "bot"})
    # Then both failures are recorded, and the lockout the second one caused
    failures = AuditEntry.objects.filter(action="auth.sign_in_failed", object_label=name)
    assert failures.count() == 2
    assert {(e.workspace_id, e.actor_kind, e.ip, e.user_agent) for e in failures} == {
        (None, "system", "127.0.0.1", "bot")
    }
    [lockout] = AuditEntry.objects.filter(action="auth.lockout", object_label=name)
    assert lockout.data == {"by": ["name"], "minutes": settings.SIGN_IN_WINDOW_MIN}
    assert PASSWORD not in str([e.data for e in failures])


def test_the_owner_reads_the_page_with_filters(owner, workspace, echo):
    owner.post(f"{W}/workflows/echo/archive/")
    owner.post(f"{W}/secrets/new", {"name": "CRM_TOKEN", "value": SECRET_VALUE})
    page = owner.get(f"{W}/audit/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "workflow.archive" in html and "secret.create" in html and SECRET_VALUE not in html
    assert f'href="{W}/audit/"' in html  # the sidebar's link
    only = owner.get(f"{W}/audit/", {"action": "secret"}).content.decode()
    assert "secret.create" in only and "<code>workflow.archive</code>" not in only
    by_object = owner.get(f"{W}/audit/", {"object": f"workflow:{echo.id}"}).content.decode()
    assert "<code>workflow.archive</code>" in by_object and "<code>secret.create" not in by_object
    assert "No entries match" in owner.get(f"{W}/audit/", {"actor": "nobody"}).content.decode()
    future = owner.get(f"{W}/audit/", {"since": "2999-01-01"}).content.decode()
    assert "No entries match" in future
    bad = owner.get(f"{W}/audit/", {"since": "2026-02-01", "until": "2026-01-01"})
    assert bad.status_code == 400 and "The end is before the start." in bad.content.decode()


def test_the_page_goes_back_in_pages(owner, workspace):
    for number in range(55):
        Secret.set(workspace, f"S{number}", SECRET_VALUE)
    first = owner.get(f"{W}/audit/", {"action": "secret.create"}).content.decode()
    assert first.count("<code>secret.create</code>") == 50 and "Older →" in first
    older = AuditEntry.objects.filter(action="secret.create").order_by("id")[4].id
    second = owner.get(f"{W}/audit/", {"action": "secret.create", "before": older + 1})
    assert second.content.decode().count("<code>secret.create</code>") == 5


@pytest.mark.parametrize("persona", ["bob", "erin"])
def test_viewers_and_editors_get_403_and_no_link(client, workspace, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(f"{W}/audit/").status_code == 403
    assert f'href="{W}/audit/"' not in client.get(f"{W}/runs/").content.decode()


def test_a_stranger_gets_404(client, charlie, workspace):
    client.force_login(charlie)
    assert client.get(f"{W}/audit/").status_code == 404


def test_the_admin_shows_entries_and_changes_none(admin_client, workspace):
    entry = Secret.set(workspace, "CRM_TOKEN", SECRET_VALUE) and AuditEntry.objects.get()
    base = "/admin/core/auditentry/"
    assert admin_client.get(base).status_code == 200
    assert admin_client.get(f"{base}{entry.id}/change/").status_code == 200  # view only
    assert admin_client.get(f"{base}add/").status_code == 403
    changed = admin_client.post(f"{base}{entry.id}/change/", {"action": "secret.delete"})
    assert changed.status_code == 403
    assert admin_client.post(f"{base}{entry.id}/delete/", {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [entry.id], "post": "yes"}
    admin_client.post(base, bulk)
    entry.refresh_from_db()
    assert entry.action == "secret.create"


def test_retention_prunes_old_entries_in_the_sweepers_pass(workspace, settings):
    # Given entries of 400, 100 and 0 days ago, and a retention of 365 days
    settings.AUDIT_RETENTION_DAYS = 365
    now = timezone.now()
    for days in (400, 100, 0):
        Secret.set(workspace, f"S{days}", SECRET_VALUE)
        AuditEntry.objects.filter(object_label=f"S{days}").update(at=now - timedelta(days=days))
    # When the sweeper's pruning pass runs
    removed = pruning.prune_pass(now)
    # Then only the old one is gone
    assert removed.audit_entries == 1 and "1 audit entries" in str(removed)
    assert sorted(AuditEntry.objects.values_list("object_label", flat=True)) == ["S0", "S100"]
    # And a shorter retention lets the next one go too
    settings.AUDIT_RETENTION_DAYS = 30
    assert pruning.prune_all(now).audit_entries == 1
    assert list(AuditEntry.objects.values_list("object_label", flat=True)) == ["S0"]
