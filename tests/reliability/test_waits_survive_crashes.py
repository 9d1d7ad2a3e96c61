"""Waits hold no worker, so nothing of theirs dies with one: a run sleeping 5 s and a run
waiting for approval survive a SIGKILL of every worker process and a restart of the Redis
they use (a redis-server of the test's own, without persistence: it comes back empty), and
the sleep still ends on time, by the step's own timestamps."""

import time

import pytest

from core.models import WorkerHeartbeat
from runner import wait_transitions
from runner.soak.redis import PrivateRedis
from tests import servers
from tests.broker import sender_to
from tests.runs import duplicated_transitions, start, wait_for
from tests.servers import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_server():
    server = PrivateRedis()  # killed, it comes back empty: no persistence
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_workers(_worker_process, redis_server, smtp_server):
    """Two worker processes whose broker and coordination Redis is `redis_server`. The
    suite's shared worker is stopped first: its sweeper must not wake these runs (the next
    test that wants it starts it again)."""
    _worker_process.stop()
    workers = WorkerProcess(
        database_url=servers.test_database_url(),
        email_url=f"smtp://127.0.0.1:{smtp_server.port}",
        processes=2,
        threads=2,
        # tests/settings.py makes TEST_REDIS_URL both the broker and the coordination Redis
        extra_env={"TEST_REDIS_URL": redis_server.url, "TEST_BROKER": "redis"},
    )
    workers.start()
    yield workers
    workers.stop()


def _waiting(run, key, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        step = run.steps.get(key=key, kind="action")
        if step.status == "waiting":
            return step
        time.sleep(0.05)
    raise AssertionError(f"{key} never waited")


def _beating(workers, count, timeout=60):
    """The ids of `count` worker processes beating that are not in `workers`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        beating = WorkerHeartbeat.objects.exclude(worker__in=workers)
        found = set(beating.values_list("worker", flat=True))
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{count} worker processes did not beat within {timeout}s")


def test_a_sleep_and_an_approval_survive_killed_workers_and_a_restarted_redis(
    own_workers, redis_server, workspace
):
    # Given two worker processes up, a run sleeping 5 s and a run waiting for an approval,
    # each with a step after
    first = _beating(set(), 2)
    sleeping = start(
        workspace,
        [{"key": "pause", "type": "sleep", "for_s": 5}, {"key": "after", "action": "debug.echo"}],
    )
    approving = start(
        workspace,
        [{"key": "review", "type": "approval"}, {"key": "after", "action": "debug.echo"}],
    )
    _waiting(sleeping, "pause")
    _waiting(approving, "review")

    # When every worker process is killed, and the Redis is killed and started again empty
    assert len(own_workers.worker_pids()) == 2
    own_workers.kill_hard()
    redis_server.stop()  # SIGKILL
    redis_server.start()
    own_workers.start()

    # Then the sleep ends on time, by its own row: within a second of its wake-up time, or
    # of the first replacement process's start when a busy machine booted them later (no
    # process, no wake-up: a machine at load 15 takes 10-17 s to start Python workers)
    sleeping = wait_for(sleeping, timeout=60)
    assert sleeping.status == "succeeded", sleeping.error
    pause = sleeping.steps.get(key="pause")
    replacements = WorkerHeartbeat.objects.filter(worker__in=_beating(first, 2))
    back = min(replacements.values_list("started_at", flat=True))
    due = max(pause.wake_at, back)
    late = (pause.ended_at - due).total_seconds()
    assert pause.ended_at >= pause.wake_at, "woke before its time"
    assert late < 1, f"woke {late:.3f} s after {due}; see {own_workers.log_path}"
    # And the approval still waits; decided, its run goes on through the restarted Redis
    assert approving.steps.get(key="review").status == "waiting"
    wait_transitions.decide_approval(
        approving.id,
        "review",
        approved=True,
        by="alice",
        comment="",
        send=sender_to(redis_server.url),
    )
    approving = wait_for(approving, timeout=30)
    assert approving.status == "succeeded", approving.error
    for run in (sleeping, approving):
        assert run.steps.get(key="after").status == "succeeded"
        assert duplicated_transitions(run) == []
