"""The soak itself: workers, a stream of runs, faults on a schedule, then the report."""

import random
import sys
import threading
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, connection

from runner import launch
from runner.soak import faults, report
from runner.soak.memory import MemoryWatch
from runner.soak.redis import PrivateRedis
from runner.soak.workload import DEFINITIONS, published


@dataclass(kw_only=True)
class Options:
    duration: float = 180  # seconds of traffic and faults
    workers: int = 3  # worker processes, 1 process x `threads` each
    threads: int = 4
    rate: float = 4.0  # runs submitted per second
    kill_every: float = 5.0  # seconds between worker SIGKILLs
    settle: float = 120  # how long ended runs may take after the faults stop
    faults: bool = True  # False: steady traffic only, and the workers' memory is watched


# The engine's safety nets, tightened so that a 30 s soak sees them work; production
# defaults (settings) are looser but the same code runs.
WORKER_ENV = {
    "SWEEP_INTERVAL_S": "0.5",
    "WORKER_DEAD_AFTER_S": "3",
    "LOST_MESSAGE_AFTER_S": "10",
    "dramatiq_worker_timeout": "20",
}


def soak(options, progress=print):
    """Run the soak; returns the report dict (see runner/soak/report.py)."""
    redis = PrivateRedis().start()
    try:
        _use_broker(redis.url)
        return _Soak(options, redis, progress).run()
    finally:
        redis.stop()


def _use_broker(url):
    """Point this process's broker at the private Redis (before the broker is built)."""
    if "runner.tasks" in sys.modules:
        from runner.tasks import broker

        if getattr(broker, "client", None) is not None:
            raise RuntimeError("the soak must run in a fresh process (the broker is built)")
    settings.BROKER_URL = settings.REDIS_URL = url


class _Soak:
    def __init__(self, options, redis, progress):
        from core.models import Workspace

        self.o, self.redis, self.progress = options, redis, progress
        self.session = uuid.uuid4().hex[:12]
        self.workspace, _ = Workspace.objects.get_or_create(slug="soak", defaults={"name": "Soak"})
        self.versions = published(self.workspace)
        env = {**WORKER_ENV, "BROKER_URL": redis.url, "REDIS_URL": redis.url}
        env["TEST_REDIS_URL"] = redis.url  # for workers started with the test settings
        self.pool = faults.WorkerPool(options.workers, options.threads, env)
        self.accepted, self.unanswered = {}, {}
        self.stop = threading.Event()
        self.memory = None if options.faults else MemoryWatch(options.duration)

    def run(self):
        began = time.monotonic()
        self.pool.start()
        try:
            self._wait_for_workers()
            submitter = threading.Thread(target=self._submit, name="soak-submitter")
            submitter.start()
            self._inject_faults()
            self.stop.set()
            submitter.join()
            self.progress(f"faults stopped; {len(self.accepted)} runs submitted; settling")
            self._settle()
            result = report.build(self.workspace, self.session, self.accepted, self.unanswered)
        finally:
            self.stop.set()
            self.pool.stop()
        result["faults"] = self.faults
        if self.memory is not None:
            result.update(self.memory.report())
        result["seconds"] = round(time.monotonic() - began, 1)
        return result

    def _wait_for_workers(self):
        from datetime import timedelta

        from django.utils import timezone

        from core.models import WorkerHeartbeat
        from runner.bench.processes import wait_until

        wait_until(
            lambda: (
                WorkerHeartbeat.objects.filter(
                    last_seen_at__gte=timezone.now() - timedelta(seconds=2)
                ).count()
                >= self.o.workers
            ),
            60,
            interval=0.2,
            what="worker heartbeats",
        )

    def _submit(self):
        """Start runs at the chosen rate; an error leaves the run's fate to the report."""
        number = 0
        try:
            while not self.stop.is_set():
                number += 1
                kind = random.choice(list(DEFINITIONS))
                version = self.versions[kind]
                try:
                    launch.start_run(
                        workspace=self.workspace,
                        definition=version.definition,
                        input={"soak": self.session, "n": number},
                        workflow=version.workflow,
                        workflow_version=version,
                    )
                    self.accepted[number] = kind
                except Exception as error:  # database or broker down: the report looks it up
                    self.unanswered[number] = kind
                    self.progress(f"submit {number} failed: {error.__class__.__name__}")
                    close_old_connections()
                    connection.close()
                self.stop.wait(1 / self.o.rate)
        finally:
            connection.close()

    def _inject_faults(self):
        start = time.monotonic()
        self.faults = {"workers_killed": 0, "redis_restarts": 0, "db_sessions_terminated": 0}
        redis_at, db_at = self.o.duration * 0.4, self.o.duration * 0.6
        next_kill = self.o.kill_every
        while (elapsed := time.monotonic() - start) < self.o.duration:
            if self.memory is not None:
                if self.memory.due(elapsed):
                    at, mib = self.memory.sample(elapsed, self.pool)
                    self.progress(f"{at:5.1f}s workers' resident memory {mib} MiB")
                time.sleep(0.1)
                continue  # no faults: steady traffic, memory watched
            if elapsed >= next_kill:
                name = self.pool.kill_one()
                self.faults["workers_killed"] += 1
                self.progress(f"{elapsed:5.1f}s SIGKILL {name}")
                next_kill += self.o.kill_every
            if redis_at is not None and elapsed >= redis_at:
                self.redis.restart()
                self.faults["redis_restarts"] += 1
                self.progress(f"{elapsed:5.1f}s Redis restarted empty")
                redis_at = None
            if db_at is not None and elapsed >= db_at:
                count = faults.terminate_database_sessions()
                self.faults["db_sessions_terminated"] += count
                self.progress(f"{elapsed:5.1f}s terminated {count} PostgreSQL sessions")
                db_at = None
            time.sleep(0.1)

    def _settle(self):
        from runner.models import Run
        from runner.states import ACTIVE_RUN

        deadline = time.monotonic() + self.o.settle
        runs = Run.objects.filter(workspace=self.workspace, input__soak=self.session)
        while time.monotonic() < deadline:
            active = runs.filter(status__in=ACTIVE_RUN).count()
            if active == 0:
                return
            self.progress(f"waiting for {active} active runs")
            time.sleep(2)
