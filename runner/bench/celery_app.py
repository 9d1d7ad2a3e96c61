"""The Celery contender's app and tasks: no-ops on the same Redis, results ignored.

Imported by `celery -A runner.bench.celery_app worker` and by the bench (optional extra
`bench`). The last task of a chain pushes its finishing time to a Redis list.
"""

import os
import time

import redis
from celery import Celery

QUEUE = "bench_celery"
URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

app = Celery("brickwork_bench", broker=URL)
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    worker_prefetch_multiplier=4,
    broker_connection_retry_on_startup=True,
)
_client = redis.Redis.from_url(URL)


@app.task(name="bench.noop")
def noop():
    """Does nothing."""


@app.task(name="bench.finish")
def finish(key):
    _client.rpush(key, time.time())
