"""Retention deletes exactly the runs a workspace's policy lets go, a batch at a time."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from builder.definition import validate
from builder.models import Trigger, WebhookDelivery
from runner import pruning
from runner.models import Attempt, Run, RunEvent, StepRun
from tests.drive import drive
from tests.runs import start, wait_for

ECHO = [{"key": "hello", "action": "debug.echo", "input": {"hi": 1}}]
FAIL = [{"key": "boom", "action": "debug.fail", "input": {"retryable": False}}]
SAGA = [
    {
        "key": "reserve",
        "action": "debug.echo",
        "input": {"item": "book"},
        "compensate": {"action": "debug.echo", "input": {"release": "book"}},
    },
    {"key": "charge", "action": "debug.fail", "input": {"retryable": False}},
]
REVIEW = [
    {
        "key": "reserve",
        "action": "debug.echo",
        "input": {"item": "book"},
        "compensate": {
            "action": "debug.fail",
            "input": {"fail_times": -1},
            "retry": {"max_attempts": 1},
        },
    },
    {"key": "charge", "action": "debug.fail", "input": {"retryable": False}},
]


def finished(workspace, steps, ended_days_ago, keep=False):
    """A run made and finished by the real engine, then dated `ended_days_ago`."""
    run = drive(start(workspace, steps))
    ended = timezone.now() - timedelta(days=ended_days_ago)
    Run.objects.filter(id=run.id).update(ended_at=ended, keep=keep)
    return Run.objects.get(id=run.id)


@pytest.mark.django_db
def test_the_policy_decides_which_runs_go_and_keeps_the_rest(workspace):
    # Given runs of every kind on both sides of the 30 and 90 day lines
    gone = [
        finished(workspace, ECHO, 31),
        finished(workspace, FAIL, 91),
        finished(workspace, SAGA, 91),
        finished(workspace, REVIEW, 91),
    ]
    stay = [
        finished(workspace, ECHO, 29),
        finished(workspace, ECHO, 400, keep=True),
        finished(workspace, FAIL, 40),
        finished(workspace, SAGA, 40),
        finished(workspace, REVIEW, 89),
    ]
    statuses = [run.status for run in gone]
    assert statuses == ["succeeded", "failed", "compensated", "failed"]
    assert gone[3].needs_review and stay[4].needs_review
    # an active run, created long ago (no worker: it stays queued)
    active = start(workspace, ECHO)
    Run.objects.filter(id=active.id).update(created_at=timezone.now() - timedelta(days=365))
    trigger = Trigger.objects.create(
        workflow=_workflow(workspace), token="t" * 20, kind=Trigger.Kind.WEBHOOK
    )
    delivery = WebhookDelivery.objects.create(
        trigger=trigger, status_code=202, verdict="accepted", run=gone[0]
    )
    gone_ids = {run.id for run in gone}
    attempts = Attempt.objects.filter(run_id__in=gone_ids).count()
    steps = StepRun.objects.filter(run_id__in=gone_ids).count()
    events = RunEvent.objects.filter(run_id__in=gone_ids).count()
    assert pruning.figures(workspace)["due_runs"] == 4

    # When retention runs in batches of two
    first = pruning.prune_batch(workspace, size=2)
    rest = pruning.prune_all()

    # Then exactly the due runs went, with their steps, attempts, events and deliveries
    assert first.runs == 2 and rest.runs == 2
    assert set(Run.objects.values_list("id", flat=True)) == {r.id for r in stay} | {active.id}
    assert first.attempts + rest.attempts == attempts
    assert first.steps + rest.steps == steps
    assert first.events + rest.events == events
    assert first.deliveries + rest.deliveries == 1
    assert not WebhookDelivery.objects.filter(id=delivery.id).exists()
    assert not Attempt.objects.filter(run_id__in=gone_ids).exists()
    assert not RunEvent.objects.filter(run_id__in=gone_ids).exists()
    assert pruning.figures(workspace)["due_runs"] == 0


@pytest.mark.django_db
def test_each_workspace_has_its_own_policy(workspace, other_workspace):
    mine = finished(workspace, ECHO, 8)
    theirs = finished(other_workspace, ECHO, 8)
    pruning.set_policy(workspace, 7, 7)
    assert pruning.prune_all().runs == 1
    assert not Run.objects.filter(id=mine.id).exists()
    assert Run.objects.filter(id=theirs.id).exists()


@pytest.mark.django_db
def test_manage_py_prune_says_what_it_removed(workspace):
    finished(workspace, ECHO, 31)
    finished(workspace, ECHO, 2)
    out = StringIO()
    call_command("prune", "--dry-run", stdout=out)
    assert "acme: would remove 1 runs (1 attempts) of 2" in out.getvalue()
    out = StringIO()
    call_command("prune", stdout=out)
    assert "acme: removed 1 runs" in out.getvalue()
    assert "removed 1 runs, 1 steps, 1 attempts" in out.getvalue()
    assert Run.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_prunes_in_batches_while_runs_flow(worker, workspace):
    # Given 250 old succeeded runs (more than two batches), made by the worker
    old = [start(workspace, ECHO) for _ in range(250)]
    for run in old:
        wait_for(run)
    Run.objects.filter(id__in=[r.id for r in old]).update(
        ended_at=timezone.now() - timedelta(days=31)
    )
    kept = old[0]
    pruning.set_kept(kept, True)
    # When new runs flow while the worker's sweeper prunes
    fresh, deadline = [], time.monotonic() + 60
    while Run.objects.filter(id__in=[r.id for r in old[1:]]).exists():
        assert time.monotonic() < deadline, "the sweeper did not prune the old runs"
        fresh.append(start(workspace, ECHO, input={"n": len(fresh)}))
        time.sleep(0.05)
    # Then the old runs are gone but the kept one, and every new run ran to success
    assert [wait_for(run).status for run in fresh] == ["succeeded"] * len(fresh)
    assert Run.objects.filter(id=kept.id).exists()
    assert Run.objects.count() == len(fresh) + 1
    assert len(fresh) > 1


def _workflow(workspace):
    from builder.models import Workflow

    definition = validate({"name": "hooked", "steps": ECHO}, workspace)
    workflow = Workflow.objects.create(workspace=workspace, slug="hooked", name="hooked")
    workflow.publish(definition)
    return workflow
