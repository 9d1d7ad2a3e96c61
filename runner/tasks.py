"""The broker and the one actor. Messages carry attempt ids only; the database is the truth."""

import os
import socket
import uuid

import dramatiq
from django.conf import settings
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
)

from runner.middleware import DatabaseConnections, WorkerLifecycle


def _broker():
    # No TimeLimit middleware: attempt deadlines are the engine's business (the sweeper
    # expires overdue attempts), and an eager chain may run longer than any one step.
    middleware = [
        AgeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        # Retries here only cover infrastructure failures (database down while claiming);
        # an action's own failures are retried by the engine, attempt by attempt.
        Retries(max_retries=5, min_backoff=200, max_backoff=10_000),
        CurrentMessage(),
        DatabaseConnections(),
        WorkerLifecycle(),
    ]
    url = settings.BROKER_URL
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url, middleware=middleware)
    return RedisBroker(url=url, middleware=middleware)


broker = _broker()
dramatiq.set_broker(broker)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def worker_id():
    """Stable per process (the id is recomputed after a fork)."""
    global WORKER_ID
    if f":{os.getpid()}:" not in WORKER_ID:
        WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    return WORKER_ID


@dramatiq.actor(queue_name=settings.BROKER_QUEUE, max_retries=5)
def run_attempt(attempt_id):
    from runner.executor import execute_attempt

    execute_attempt(attempt_id, worker_id())


def enqueue(dispatches):
    """Send one message per attempt, delayed where a retry must wait."""
    for dispatch in dispatches:
        run_attempt.send_with_options(args=(dispatch.attempt_id,), delay=dispatch.delay_ms or None)


def redis_client():
    """The broker's Redis connection, or None on RabbitMQ."""
    return getattr(broker, "client", None)
