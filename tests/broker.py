"""The broker's side of the crash tests: its messages wiped as a crash would wipe them."""

from django.conf import settings


def lose_broker_messages():
    """Redis: FLUSHDB of the broker's database (only ours; other databases are not ours).
    RabbitMQ: purge our queue, its delay and dead-letter queues, and delete the marker
    queue, as a node reset would."""
    from runner.tasks import broker, on_rabbitmq

    if on_rabbitmq():
        broker.flush_all()
        broker.channel.queue_delete(queue=f"{settings.BROKER_QUEUE}.marker")
    else:
        broker.client.flushdb()


def sender_to(url):
    """The engine's `send` to the Redis broker at `url`: for a test whose workers take
    their messages from a Redis of the test's own (runner/soak/redis.py PrivateRedis)."""
    from runner.broker_wake import WakingRedisBroker
    from runner.tasks import run_attempt

    other = WakingRedisBroker(url=url, middleware=[])  # as the product's: it wakes consumers
    other.declare_queue(settings.BROKER_QUEUE)

    def send(dispatches):
        for dispatch in dispatches:
            message = run_attempt.message_with_options(args=(dispatch.attempt_id,))
            other.enqueue(message, delay=dispatch.delay_ms or None)

    return send
