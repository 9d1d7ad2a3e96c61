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
