"""The broker and the one actor. Messages carry attempt ids only; the database is the truth."""

import os
import socket
import time
import uuid

import dramatiq
import pika
from django.conf import settings
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
)

from runner.broker_wake import WakingRedisBroker
from runner.executor import execute_attempt
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
        return RabbitmqBroker(url=url, middleware=middleware)
    return WakingRedisBroker(url=url, middleware=middleware)


broker = _broker()
dramatiq.set_broker(broker)

MARKER_KEY = "brickwork:broker-marker"
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def worker_id():
    """Stable per process (the id is recomputed after a fork)."""
    global WORKER_ID
    if f":{os.getpid()}:" not in WORKER_ID:
        WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    return WORKER_ID


@dramatiq.actor(queue_name=settings.BROKER_QUEUE, max_retries=5)
def run_attempt(attempt_id):
    execute_attempt(attempt_id, worker_id(), send=enqueue)


def enqueue(dispatches):
    """Send one message per attempt, delayed where a retry must wait."""
    for dispatch in dispatches:
        run_attempt.send_with_options(args=(dispatch.attempt_id,), delay=dispatch.delay_ms or None)


def on_rabbitmq():
    return not isinstance(broker, RedisBroker)


def ping_broker():
    """Raise when the broker does not answer."""
    if on_rabbitmq():
        _with_fresh_connection(lambda: broker.connection.process_data_events(0))
    else:
        broker.client.ping()


def queue_depths():
    """Messages waiting in the queue and in its delay queue ({queue name: count})."""
    queue, delayed = settings.BROKER_QUEUE, f"{settings.BROKER_QUEUE}.DQ"
    if on_rabbitmq():
        # Ready messages only: RabbitMQ does not count those a worker holds unacknowledged.
        ready, waiting, _dead = _with_fresh_connection(
            lambda: broker.get_queue_message_counts(queue)
        )
        return {queue: ready, delayed: waiting}
    return {name: broker.client.llen(f"{broker.namespace}:{name}") for name in (queue, delayed)}


def broker_lost_its_messages():
    """True once after the broker lost its messages (Redis flushed or restarted empty,
    RabbitMQ reset or its queues purged): the marker this leaves in the broker is gone.
    The first call on a new broker answers True too: one harmless re-send of each
    scheduled attempt (the engine's compare-and-set makes a duplicate message a no-op)."""
    if on_rabbitmq():
        return _with_fresh_connection(_rabbitmq_marker_gone)
    return bool(broker.client.set(MARKER_KEY, str(time.time()), nx=True))


def _rabbitmq_marker_gone():
    # A durable queue holding one persistent message survives restarts like the
    # attempts' messages do, and goes with them when the node is reset or purged.
    name = f"{settings.BROKER_QUEUE}.marker"
    declared = broker.channel.queue_declare(queue=name, durable=True)
    if declared.method.message_count:
        return False
    broker.channel.basic_publish(
        exchange="",
        routing_key=name,
        body=str(time.time()).encode(),
        properties=pika.BasicProperties(delivery_mode=2),
    )
    return True


def _with_fresh_connection(call):
    """Run `call` on this thread's RabbitMQ connection, once more on a new one if that
    one died (an idle connection misses heartbeats and the server closes it)."""
    try:
        return call()
    except pika.exceptions.AMQPError:
        del broker.connection
        return call()
