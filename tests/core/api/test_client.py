"""The Python client, against a live server and a real worker, SMTP server and database."""

import re
from pathlib import Path

import pytest

from core.client import Brickwork, BrickworkError
from runner.models import Run
from tests.runs import attempts_of, start

pytestmark = pytest.mark.django_db(transaction=True)
README = Path(__file__).resolve().parents[3] / "README.md"


def readme_client_example():
    """The README's Python example that sends the welcome e-mail, as written there."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    [example] = [block for block in blocks if 'action("email.send")' in block]
    return example


def test_the_readme_example_sends_the_welcome_email_once(
    live_server, api_key, worker, smtp_server, monkeypatch
):
    # Given an SMTP server that drops the first delivery
    smtp_server.clear()
    smtp_server.drop_next(1)
    monkeypatch.setenv("BRICKWORK_API_KEY", api_key)
    monkeypatch.setenv("BRICKWORK_URL", live_server.url)
    # When the README's example runs, as a user would run it
    scope = {}
    exec(compile(readme_client_example(), "README.md", "exec"), scope)
    # Then the run succeeded, on its second attempt
    run = scope["run"]
    assert run.status == "succeeded", run.data
    assert run.output["to"] == ["ada@example.com"]
    attempts = attempts_of(Run.objects.get(id=run.id), "run")
    assert [a.status for a in attempts] == ["failed", "succeeded"]
    assert attempts[0].retry_decision["retry"] is True
    # And the e-mail arrived exactly once (the first delivery was refused)
    assert smtp_server.refused == 1
    [message] = smtp_server.messages
    assert message.rcpt_tos == ["ada@example.com"]
    assert b"Welcome to Acme" in message.content
    # And running the example again (same idempotency key) sends nothing more
    exec(compile(readme_client_example(), "README.md", "exec"), scope)
    assert scope["run"].id == run.id and len(smtp_server.messages) == 1


def test_runs_reruns_cancels_and_lists(brickwork, worker):
    failed = brickwork.action("debug.fail").run({"retryable": False}, wait=20)
    assert failed.status == "failed" and failed.error["step"] == "run"
    rerun = failed.rerun(start_from="failed", input={"fail_times": 0}, wait=20)
    assert rerun.status == "succeeded" and rerun.data["rerun_of"] == failed.id
    slow = brickwork.action("debug.sleep").run({"ms": 5000})
    assert slow.cancel().status in ("compensating", "cancelled")
    assert slow.wait(timeout=20).status == "cancelled"
    fetched = brickwork.run(failed.id)
    assert fetched.steps[0]["attempts"][0]["status"] == "failed"
    listed = [run.id for run in brickwork.runs(status="failed", limit=1)]
    assert listed == [failed.id]
    assert {a["name"] for a in brickwork.actions()} >= {"email.send", "debug.echo"}


def test_api_errors_are_raised_as_one_exception_type(brickwork, live_server):
    with pytest.raises(BrickworkError) as invalid:
        brickwork.action("email.send").run({"to": "ada@example.com"})
    assert invalid.value.status == 422 and invalid.value.code == "invalid"
    assert set(invalid.value.fields) == {"input.subject", "input.body"}
    with pytest.raises(BrickworkError) as not_an_object:
        brickwork.action("debug.echo").run([])  # not silently run with {}
    assert not_an_object.value.status == 422 and "input" in not_an_object.value.fields
    with pytest.raises(BrickworkError) as missing:
        brickwork.run(123456789)
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    with pytest.raises(BrickworkError) as unauthorized:
        Brickwork(api_key="bw_nope", base_url=live_server.url).actions()
    assert unauthorized.value.status == 401
    with pytest.raises(BrickworkError) as unreachable:
        Brickwork(api_key="bw_nope", base_url="http://127.0.0.1:9", timeout=2).actions()
    assert unreachable.value.status is None and unreachable.value.code == "unreachable"
    slow = brickwork.action("debug.sleep").run({"ms": 3000})
    with pytest.raises(TimeoutError):
        slow.wait(timeout=0.3)
    slow.cancel()


def test_define_and_version_an_http_action_then_run_it(brickwork, worker, http_server):
    # Given an HTTP action defined and versioned through the client
    http_server.clear()
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
    brickwork.define_action(
        "crm.touch", url=http_server.url + "/touch/{{ input.id }}", input_schema=schema
    )
    second = brickwork.action("crm.touch").new_version(method="PUT", timeout_s=5)
    assert second["version"] == 2 and second["config"]["method"] == "PUT"
    assert [v["version"] for v in brickwork.action("crm.touch").versions()] == [2, 1]
    assert brickwork.action("crm.touch").version(1)["config"]["method"] == "POST"
    # When it runs
    run = brickwork.action("crm.touch").run({"id": 7}, wait=20)
    # Then the latest version made the call
    assert run.status == "succeeded", run.data
    assert http_server.requests[-1]["method"] == "PUT"
    assert http_server.requests[-1]["path"] == "/touch/7"
    # And a refused definition is a BrickworkError with the page's field messages
    with pytest.raises(BrickworkError) as refused:
        brickwork.define_action("Bad Name", url="ftp://x")
    assert refused.value.status == 422 and {"name", "url"} <= set(refused.value.fields)


def test_workflows_failures_members_and_keys(brickwork, live_server, workspace, echo_workflow):
    from core.client import Brickwork
    from core.models import ApiKey
    from tests.personas import make_user

    # Workflows: list, versions, validate, archive (no runs), unarchive
    assert [w["slug"] for w in brickwork.workflows()] == ["echo"]
    [version] = brickwork.workflow("echo").versions()
    assert brickwork.workflow("echo").version(1) == version
    assert brickwork.workflow("echo").validate(version["definition"])["steps"]
    brickwork.workflow("echo").archive()
    assert [w["slug"] for w in brickwork.workflows(archived=True)] == ["echo"]
    with pytest.raises(BrickworkError) as archived:
        brickwork.workflow("echo").run({"n": 1})
    assert archived.value.code == "archived"
    brickwork.workflow("echo").unarchive()
    # Failures: a run that failed, resolved, reopened
    failed = Run.objects.create(workspace=workspace, definition={}, status="failed", error={})
    assert [f["id"] for f in brickwork.failures()] == [failed.id]
    resolved = brickwork.run(failed.id).resolve("refunded by hand")
    assert resolved.data["status"] == "failed" and list(brickwork.failures()) == []
    brickwork.run(failed.id).reopen()
    assert [f["id"] for f in brickwork.failures()] == [failed.id]
    # Keys: an owner key (shown once) manages members
    make_user("alice", workspace, "owner")
    make_user("dora")
    owner = Brickwork(
        api_key=ApiKey.issue(workspace, "admin", "owner")[1], base_url=live_server.url
    )
    member = owner.members.add("dora", role="viewer")
    assert owner.members.set_role(member["id"], "editor")["role"] == "editor"
    owner.members.remove(member["id"])
    assert [m["username"] for m in owner.members.list()] == ["alice"]
    new = owner.api_keys.create("ci", role="viewer")
    viewer = Brickwork(api_key=new["key"], base_url=live_server.url)
    with pytest.raises(BrickworkError) as forbidden:
        viewer.workflow("echo").archive()
    assert forbidden.value.status == 403
    owner.api_keys.revoke(new["id"])
    with pytest.raises(BrickworkError) as revoked:
        viewer.workflows()
    assert revoked.value.status == 401
    assert "key" not in owner.api_keys.list()[0]


def test_retention_keep_and_alerts(brickwork, live_server, workspace, worker):
    from core.models import ApiKey

    run = brickwork.action("debug.echo").run({"x": 1}, wait=20)
    assert run.keep().data["keep"] is True and run.keep(False).data["keep"] is False
    owner = Brickwork(api_key=ApiKey.issue(workspace, "o", "owner")[1], base_url=live_server.url)
    assert owner.set_retention(10, 20)["keep_failed_runs_days"] == 20
    assert brickwork.retention()["runs"] == 1
    rule = brickwork.alerts.create("On-call", ["failed"], email_to=["a@example.com"])
    assert brickwork.alerts.update(rule["id"], window_s=120)["window_s"] == 120
    assert [d["channel"] for d in brickwork.alerts.test(rule["id"])["deliveries"]] == ["email"]
    assert brickwork.alerts.deliveries(rule=rule["id"])[0]["test"] is True
    brickwork.alerts.delete(rule["id"])
    assert brickwork.alerts.rules() == []


def test_events_approvals_and_rejections(brickwork, live_server, workspace):
    paid = brickwork.run(start(workspace, [{"key": "pay", "type": "event", "event": "paid"}]).id)
    assert paid.send_event("paid", {"amount": 3}).status == "succeeded"
    assert paid.refresh().steps[0]["output"] == {"amount": 3}
    with pytest.raises(BrickworkError) as caught:
        paid.send_event("paid")
    assert caught.value.status == 409
    review = [{"key": "review", "type": "approval"}]
    approved = brickwork.run(start(workspace, review).id).approve(comment="fine")
    assert approved.status == "succeeded"
    assert approved.refresh().steps[0]["output"]["comment"] == "fine"
    rejected = brickwork.run(start(workspace, review).id).reject("review", "no")
    assert rejected.refresh().steps[0]["output"]["approved"] is False


def test_schedules_and_the_audit_log(brickwork, live_server, workspace, echo_workflow):
    from datetime import UTC, datetime

    from core.models import ApiKey

    schedules = brickwork.workflow("echo").schedules
    made = schedules.create("mornings", cron="0 9 * * *", timezone="Europe/Paris", input={"n": 1})
    assert made["overlap"] == "skip" and len(made["next_fire_times"]) == 5
    assert schedules.update(made["id"], paused=True)["paused"] is True
    assert [s["id"] for s in schedules.list()] == [made["id"]]
    backfilled = schedules.backfill(
        made["id"], datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 3, 12, tzinfo=UTC)
    )
    assert len(backfilled["runs"]) == 3  # 09:00 Paris on the 1st, 2nd and 3rd
    schedules.delete(made["id"])
    assert schedules.list() == []
    # The audit log said who did it; only an owner key reads it
    with pytest.raises(BrickworkError) as forbidden:
        list(brickwork.audit())
    assert forbidden.value.status == 403
    owner = Brickwork(api_key=ApiKey.issue(workspace, "o", "owner")[1], base_url=live_server.url)
    actions = [entry["action"] for entry in owner.audit(action="schedule")]
    assert actions == ["schedule.delete", "schedule.update", "schedule.create"]
