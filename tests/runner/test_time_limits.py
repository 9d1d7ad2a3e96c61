"""Time limits with a real worker: a run past its `run_timeout_s` is ended by the sweeper
and compensated; a step's retry budget stops retrying before its attempts run out."""

import time

import pytest
from django.test import Client

from builder.definition import validate
from builder.models import Workflow
from core.models import ApiKey
from runner import launch
from runner.models import Run, RunEvent
from tests.api import Api
from tests.runs import attempts_of, duplicated_transitions, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

UNDO = {"action": "debug.echo", "input": {"undo": "{{ steps.%s.output }}"}}


def start(workspace, steps, **top):
    definition = validate({"name": "timed", "steps": steps, **top}, workspace)
    return launch.start_run(workspace=workspace, definition=definition, input={})


def test_a_run_past_its_deadline_is_stopped_and_compensated(worker, workspace, alice):
    # Given a 2 s run limit, two steps that succeed with an undo each, then a step that
    # sleeps far longer, a step waiting for a retry 30 s away, and a step after the sleep
    run = start(
        workspace,
        [
            {"key": "reserve", "action": "debug.echo", "input": {"n": 1},
             "compensate": {**UNDO, "input": {"undo": "{{ steps.reserve.output }}"}}},
            {"key": "charge", "action": "debug.echo", "input": {"n": 2},
             "compensate": {**UNDO, "input": {"undo": "{{ steps.charge.output }}"}}},
            {"key": "slow", "action": "debug.sleep", "input": {"ms": 6000}},
            {"key": "flaky", "action": "debug.fail", "input": {"fail_times": -1},
             "after": ["charge"], "retry": {"max_attempts": 3, "initial_interval_s": 30}},
            {"key": "ship", "action": "debug.echo", "input": {}, "after": ["slow"]},
        ],
        run_timeout_s=2,
    )  # fmt: skip
    assert run.deadline is not None
    assert abs((run.deadline - run.created_at).total_seconds() - 2) < 0.5
    # When the deadline passes, the sweeper ends it (not the 6 s sleep)
    run = wait_for(run, timeout=15)
    # Then the sleeping step failed with run_timeout, the waiting retry was cancelled, the
    # later step never started, and the succeeded steps were undone, newest first
    assert run.status == "compensated" and run.ending == "timed_out"
    assert run.error["code"] == "run_timeout"
    assert (run.ended_at - run.created_at).total_seconds() < 6  # before the sleep ends
    steps = {(s.key, s.kind): s for s in run.steps.all()}
    slow = steps["slow", "action"]
    assert slow.status == "failed" and slow.error["code"] == "run_timeout"
    [attempt] = attempts_of(run, "slow")
    assert attempt.status == "failed" and attempt.error["code"] == "run_timeout"
    assert attempt.retry_decision == {"retry": False, "reason": "not retried: the run timed out"}
    assert steps["flaky", "action"].status == "skipped"
    assert [a.status for a in attempts_of(run, "flaky")] == ["failed", "cancelled"]
    assert (
        steps["ship", "action"].status == "skipped"
        and steps["ship", "action"].attempts.count() == 0
    )
    undone = sorted((s for s in run.steps.filter(kind="compensation")), key=lambda s: s.started_at)
    assert [(s.key, s.status) for s in undone] == [
        ("charge", "succeeded"),
        ("reserve", "succeeded"),
    ]
    assert undone[1].input == {"undo": {"n": 1}}
    assert duplicated_transitions(run) == []
    # The run page says so, with its deadline
    browser = Client()
    browser.force_login(alice)
    page = browser.get(f"/w/acme/runs/{run.id}/").content.decode()
    assert 'id="run-timed-out"' in page and 'id="run-deadline"' in page
    assert "Timed out: the run ran past its time limit" in page
    # The API too
    shown = Api(Client(), ApiKey.issue(workspace, "look")[1]).get(f"/runs/{run.id}").json()
    assert shown["timed_out"] is True and shown["deadline"].startswith(str(run.deadline.date()))
    assert shown["error"]["code"] == "run_timeout"
    # The worker's late result of the sleep changes nothing
    events = RunEvent.objects.filter(run=run).count()
    time.sleep(4.5)
    assert RunEvent.objects.filter(run=run).count() == events
    assert attempts_of(run, "slow")[0].status == "failed"


def test_a_run_that_ends_in_time_keeps_its_deadline_and_is_not_stopped(worker, workspace):
    run = start(workspace, [{"key": "a", "action": "debug.echo", "input": {}}], run_timeout_s=60)
    run = wait_for(run)
    assert run.status == "succeeded" and run.deadline is not None and run.ending == ""


def test_a_retry_budget_stops_retrying_before_the_attempts_run_out(worker, workspace, alice):
    # Given a step failing its first 5 attempts, 10 allowed, 0.4 s apart, within 1.5 s
    retry = {"max_attempts": 10, "initial_interval_s": 0.4, "backoff_coefficient": 1,
             "jitter": False, "budget_s": 1.5}  # fmt: skip
    run = start(
        workspace,
        [{"key": "flaky", "action": "debug.fail", "input": {"fail_times": 5}, "retry": retry}],
    )
    run = wait_for(run, timeout=20)
    # Then it failed on the attempt after which the next one would start past 1.5 s
    assert run.status == "failed"
    attempts = attempts_of(run, "flaky")
    assert 2 <= len(attempts) <= 4
    assert all(a.retry_decision["retry"] for a in attempts[:-1])
    last = attempts[-1].retry_decision
    assert last == {"retry": False, "reason": "no retry: budget of 1.5 s spent", "budget_s": 1.5}
    # Each retry was due inside the budget (a busy worker may start it a little later)
    due = attempts[-1].scheduled_for - attempts[0].started_at
    assert due.total_seconds() <= 1.5
    event = run.events.get(type="attempt.failed", attempt=len(attempts))
    assert event.message == "no retry: budget of 1.5 s spent"
    # The run's timeline says so on the last attempt
    browser = Client()
    browser.force_login(alice)
    page = browser.get(f"/w/acme/runs/{run.id}/").content.decode()
    assert "no retry: budget of 1.5 s spent" in page


def test_a_timed_out_parent_cancels_its_child_run(worker, workspace):
    child_workflow = Workflow.objects.create(workspace=workspace, slug="slow", name="Slow")
    steps = [{"key": "nap", "action": "debug.sleep", "input": {"ms": 4000}}]
    child_workflow.publish(validate({"name": "Slow", "steps": steps}, workspace, "slow"))
    run = start(workspace, [{"key": "ship", "type": "workflow", "workflow": "slow"}],
                run_timeout_s=1)  # fmt: skip
    run = wait_for(run, timeout=20)
    assert run.status == "failed" and run.ending == "timed_out"
    assert run.error["code"] == "run_timeout"
    child = wait_for(Run.objects.get(parent_run=run))
    assert child.status == "cancelled"
    assert "cancelled with its parent" in child.error["message"]
    assert run.steps.get(key="ship").status == "failed"
