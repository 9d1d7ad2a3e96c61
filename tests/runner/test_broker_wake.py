"""Idle Redis consumers wait on a wake list that sends fill (runner/broker_wake.py).

Behaviour, not timings: `manage.py bench` prints the start latency it buys.
"""

import dramatiq
import pytest
from django.conf import settings

from runner.broker_wake import MAX_TOKENS, WakingRedisBroker, wake_key

pytestmark = pytest.mark.redis_broker


@pytest.fixture
def broker():
    broker = WakingRedisBroker(url=settings.BROKER_URL, middleware=[])
    broker.namespace = "brickwork-wake-test"
    broker.declare_queue("wake")
    yield broker
    broker.flush_all()
    broker.client.delete(wake_key(broker, "wake"), wake_key(broker, "wake.DQ"))
    broker.close()


def message():
    return dramatiq.Message(queue_name="wake", actor_name="a", args=(), kwargs={}, options={})


def tokens(broker, queue="wake"):
    return broker.client.llen(wake_key(broker, queue))


def test_a_message_sent_for_now_leaves_a_token_and_a_delayed_one_none(broker):
    broker.enqueue(message())
    assert tokens(broker) == 1
    broker.enqueue(message(), delay=60_000)
    assert tokens(broker) == 1
    assert tokens(broker, "wake.DQ") == 0


def test_tokens_are_bounded_when_no_consumer_takes_them(broker):
    for _ in range(MAX_TOKENS + 10):
        broker.enqueue(message())
    assert tokens(broker) == MAX_TOKENS


def test_an_idle_consumer_takes_a_token_and_then_the_message(broker):
    # Given an idle consumer whose own poll would sleep for a minute
    consumer = broker.consume("wake", prefetch=2, timeout=60_000)
    assert next(consumer) is None  # nothing to fetch: it waited on the wake list, not a minute
    # When a message is sent
    broker.enqueue(message())
    # Then the consumer, woken by its token, fetches it at its next look
    assert next(consumer) is not None
    assert next(consumer) is None  # (it took the token with the wait)
    assert tokens(broker) == 0


def test_the_delay_queue_keeps_polling(broker):
    consumer = broker.consume("wake.DQ", prefetch=2, timeout=1)
    broker.client.rpush(wake_key(broker, "wake.DQ"), 1)
    assert next(consumer) is None
    assert tokens(broker, "wake.DQ") == 1  # never waited on a wake list
