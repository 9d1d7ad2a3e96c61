"""A worker killed mid-attempt, or a Redis that lost its data, loses no run."""

import time

import pytest

from runner.models import Attempt
from runner.tasks import redis_client
from tests.runs import attempts_of, duplicated_transitions, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_until(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_worker_killed_mid_sleep_then_run_succeeds(worker, workspace):
    # Given a run whose only step sleeps 1.5 s
    run = start(
        workspace,
        [
            {
                "key": "nap",
                "action": "debug.sleep",
                "input": {"ms": 1500},
                "retry": {"max_attempts": 3, "initial_interval_s": 0.1},
            }
        ],
    )
    _wait_until(lambda: Attempt.objects.filter(run=run, status="running").exists())
    # When the worker is killed with SIGKILL in the middle of the attempt
    worker.kill_hard()
    # and a new worker starts
    worker.start()
    # Then the sweeper notices the dead worker and the run still succeeds
    run = wait_for(run, timeout=40)
    assert run.status == "succeeded"
    naps = attempts_of(run, "nap")
    assert [a.status for a in naps] == ["failed", "succeeded"]
    assert "stopped" in naps[0].error["message"]
    assert naps[0].worker != naps[1].worker
    assert duplicated_transitions(run) == []


def test_redis_flushed_while_waiting_for_a_retry(worker, workspace):
    # Given a step whose retry waits 2 s in a delayed message
    run = start(
        workspace,
        [
            {
                "key": "flaky",
                "action": "debug.fail",
                "input": {"fail_times": 1},
                "retry": {"max_attempts": 2, "initial_interval_s": 2, "jitter": False},
            }
        ],
    )
    _wait_until(lambda: Attempt.objects.filter(run=run, number=2, status="scheduled").exists())
    # When Redis loses everything
    redis_client().flushall()
    # Then the sweeper sends the retry again and the run ends
    run = wait_for(run, timeout=30)
    assert run.status == "succeeded"
    assert [a.status for a in attempts_of(run, "flaky")] == ["failed", "succeeded"]
    assert duplicated_transitions(run) == []
