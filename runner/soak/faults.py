"""The faults: SIGKILL a random worker (and start another), restart Redis, drop DB sessions."""

import random

from django.db import connection

from runner.bench.processes import Child


class WorkerPool:
    """N `dramatiq runner.worker:broker` processes, each in its own process group."""

    def __init__(self, count, threads, env):
        self.count, self.threads, self.env = count, threads, env
        self.workers = []
        self.started = 0

    def start(self):
        for _ in range(self.count):
            self._spawn()

    def _spawn(self):
        self.started += 1
        worker = Child(
            f"soak-worker-{self.started}",
            ["-m", "dramatiq", "runner.worker:broker"]
            + ["--processes", "1", "--threads", str(self.threads)],
            env=self.env,
        )
        self.workers.append(worker.start())

    def kill_one(self):
        """SIGKILL a random worker's whole process group, as a crashed host would; replace it."""
        victim = random.choice(self.workers)
        victim.kill()
        self.workers.remove(victim)
        self._spawn()
        return victim.name

    def stop(self):
        for worker in self.workers:
            worker.stop()


def terminate_database_sessions():
    """Drop every other session of this database, as a PostgreSQL restart or failover would."""
    if connection.vendor != "postgresql":
        return 0  # SQLite has no sessions to drop
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]
