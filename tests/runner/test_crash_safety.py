"""A worker killed mid-attempt, or a broker that lost its messages, loses no run."""

import time

import pytest
from django.conf import settings

from runner.models import Attempt
from runner.tasks import on_rabbitmq, queue_depths
from tests.broker import lose_broker_messages
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


def test_broker_loses_its_messages_while_a_retry_waits(worker, workspace):
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
    # When the worker holding that message dies (RabbitMQ hands the message back to the
    # delay queue, Redis keeps it for the dead worker) and the broker then loses every
    # message (Redis flushed, RabbitMQ's queues purged and its marker gone)
    worker.kill_hard()
    if on_rabbitmq():
        _wait_until(lambda: sum(queue_depths().values()) == 1)
    lose_broker_messages()
    assert sum(queue_depths().values()) == 0
    worker.start()
    # Then the new worker's sweeper sees the broker's marker gone and sends the retry again
    # at once (the age rule alone would wait LOST_MESSAGE_AFTER_S), and the run ends
    assert settings.LOST_MESSAGE_AFTER_S >= 30
    run = wait_for(run, timeout=20)
    assert run.status == "succeeded"
    assert [a.status for a in attempts_of(run, "flaky")] == ["failed", "succeeded"]
    assert duplicated_transitions(run) == []
