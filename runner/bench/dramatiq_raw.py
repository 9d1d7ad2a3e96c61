"""Raw Dramatiq: 20 no-op actors chained with `dramatiq.pipeline`, the transport's ceiling.

The bench's worker processes import this module (`dramatiq runner.bench.dramatiq_raw:broker`)
and the bench sends the pipelines through it. No Django here: nothing recorded anywhere,
only the last actor of each pipeline pushes its finishing time to a Redis list.
"""

import os
import time
import uuid

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from runner.bench.processes import Child, wait_until

QUEUE = "bench_raw"
broker = RedisBroker(url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))


@dramatiq.actor(broker=broker, queue_name=QUEUE, max_retries=0)
def noop():
    """Does nothing."""


@dramatiq.actor(broker=broker, queue_name=QUEUE, max_retries=0)
def finish(key):
    broker.client.rpush(key, time.time())


class RawDramatiq:
    name = "dramatiq"

    def __init__(self, *, processes, threads, env):
        self.worker = Child(
            "bench-dramatiq",
            ["-m", "dramatiq", "runner.bench.dramatiq_raw:broker"]
            + ["--processes", str(processes), "--threads", str(threads)],
            env=env,
        )

    def start(self):
        broker.flush_all()
        self.worker.start()
        self.idle(2, timeout=60)  # ready and warm

    def stop(self):
        self.worker.stop()

    def throughput(self, count, steps):
        """`count` pipelines of `steps` actors sent at once -> steps per second."""
        key = f"bench:raw:{uuid.uuid4().hex}"
        started = time.time()
        for _ in range(count):
            _pipeline(steps, key).run()
        ends = _collect(key, count, timeout=120)
        return count * steps / (max(ends) - started)

    def idle(self, steps, timeout=30):
        """One pipeline on an idle system -> milliseconds from send to last step done."""
        key = f"bench:raw:{uuid.uuid4().hex}"
        started = time.time()
        _pipeline(steps, key).run()
        return (_collect(key, 1, timeout)[0] - started) * 1000


def _pipeline(steps, key):
    messages = [noop.message_with_options(pipe_ignore=True) for _ in range(steps - 1)]
    messages.append(finish.message_with_options(args=(key,), pipe_ignore=True))
    return dramatiq.pipeline(messages, broker=broker)


def _collect(key, count, timeout):
    client = broker.client
    wait_until(lambda: client.llen(key) >= count, timeout, what=f"{count} pipelines done")
    ends = [float(value) for value in client.lrange(key, 0, -1)]
    client.delete(key)
    return ends
