"""Waits hold no worker, so nothing of theirs dies with one: a run sleeping 5 s and a run
waiting for approval survive a SIGKILL of every worker process and a Redis emptied by a
restart, and the sleep still ends on time."""

import time

import pytest
from django.utils import timezone

from core.models import WorkerHeartbeat
from runner import launch
from tests.broker import lose_broker_messages
from tests.runs import duplicated_transitions, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _waiting(run, key, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        step = run.steps.get(key=key, kind="action")
        if step.status == "waiting":
            return step
        time.sleep(0.05)
    raise AssertionError(f"{key} never waited")


def _new_worker_up(before, timeout=60):
    """When a heartbeat of a worker not in `before` is first seen."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if WorkerHeartbeat.objects.exclude(worker__in=before).exists():
            return timezone.now()
        time.sleep(0.02)
    raise AssertionError("no new worker came up")


def test_a_sleep_and_an_approval_survive_killed_workers_and_an_emptied_redis(worker, workspace):
    # Given a run sleeping 5 s and a run waiting for an approval, each with a step after
    sleeping = start(
        workspace,
        [{"key": "pause", "type": "sleep", "for_s": 5}, {"key": "after", "action": "debug.echo"}],
    )
    approving = start(
        workspace,
        [{"key": "review", "type": "approval"}, {"key": "after", "action": "debug.echo"}],
    )
    pause = _waiting(sleeping, "pause")
    _waiting(approving, "review")
    # When every worker process is killed and Redis loses everything it held
    assert worker.worker_pids()
    before = set(WorkerHeartbeat.objects.values_list("worker", flat=True))
    worker.kill_hard()
    lose_broker_messages()
    worker.start()
    back_at = _new_worker_up(before)
    # Then the sleep ends on time: within a second of its wake-up time, or, on a machine so
    # loaded that the new worker came up later than that, of the worker's return
    sleeping = wait_for(sleeping, timeout=30)
    assert sleeping.status == "succeeded", sleeping.error
    pause.refresh_from_db()
    due = max(pause.wake_at, back_at)
    assert -0.1 <= (pause.ended_at - due).total_seconds() < 1, (pause.wake_at, back_at)
    # and the approval still waits, then is decided and its run goes on
    assert approving.steps.get(key="review").status == "waiting"
    launch.decide_approval(approving.id, "review", approved=True, by="alice", comment="")
    approving = wait_for(approving, timeout=30)
    assert approving.status == "succeeded", approving.error
    for run in (sleeping, approving):
        assert run.steps.get(key="after").status == "succeeded"
        assert duplicated_transitions(run) == []
