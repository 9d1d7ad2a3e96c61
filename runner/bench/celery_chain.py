"""Celery: chains of 20 no-op tasks on the same Redis (optional extra `bench`)."""

import time
import uuid

from runner.bench.processes import Child, wait_until

SKIPPED = "celery: skipped (pip install '.[bench]')"


def available():
    try:
        import celery  # noqa: F401
    except ImportError:
        return False
    return True


class CeleryChains:
    name = "celery"

    def __init__(self, *, processes, threads, env):
        # One worker per process, each with a pool of `threads` threads: the same
        # concurrency as the Dramatiq workers'.
        self.workers = [
            Child(
                f"bench-celery-{index}",
                ["-m", "celery", "-A", "runner.bench.celery_app", "worker"]
                + ["--pool", "threads", "--concurrency", str(threads), "--loglevel", "WARNING"]
                + ["--without-gossip", "--without-mingle", "--without-heartbeat"]
                + ["--hostname", f"bench{index}@%h"],
                env=env,
            )
            for index in range(processes)
        ]

    def start(self):
        from runner.bench import celery_app

        celery_app.app.control.purge()
        for worker in self.workers:
            worker.start()
        self.idle(2, timeout=60)  # ready and warm

    def stop(self):
        for worker in self.workers:
            worker.stop()

    def throughput(self, count, steps):
        key = f"bench:celery:{uuid.uuid4().hex}"
        started = time.time()
        for _ in range(count):
            _chain(steps, key).apply_async()
        ends = _collect(key, count, timeout=180)
        return count * steps / (max(ends) - started)

    def idle(self, steps, timeout=30):
        key = f"bench:celery:{uuid.uuid4().hex}"
        started = time.time()
        _chain(steps, key).apply_async()
        return (_collect(key, 1, timeout)[0] - started) * 1000


def _chain(steps, key):
    from celery import chain

    from runner.bench.celery_app import finish, noop

    return chain(*[noop.si() for _ in range(steps - 1)], finish.si(key))


def _collect(key, count, timeout):
    from runner.bench.celery_app import _client

    wait_until(lambda: _client.llen(key) >= count, timeout, what=f"{count} chains done")
    ends = [float(value) for value in _client.lrange(key, 0, -1)]
    _client.delete(key)
    return ends
