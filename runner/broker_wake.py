"""A Redis broker whose idle consumers wait to be woken instead of polling.

Dramatiq's Redis consumer polls: with nothing to fetch it sleeps up to the worker timeout
(10 ms under `manage.py worker`) and asks again. So a run started on an idle worker
waits about 5 ms for its first message to be seen, and every idle worker process asks
Redis about 100 times a second per queue. Here a consumer with room for more messages
and nothing to fetch blocks on its queue's wake list (BLPOP) for up to IDLE_WAIT_S, and
every message sent for now pushes a token onto that list: a consumer fetches it at once.

Delay queues (`<queue>.DQ`) keep Dramatiq's polling: their messages fall due by the
clock, not by a send. A consumer whose prefetch is full keeps it too: it waits for its
own messages to finish, which no send announces.
"""

import time

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import dq_name
from dramatiq.errors import ConnectionClosed

# The longest an idle consumer blocks before it looks again (its acknowledgements and a
# shutdown wait at most this long).
IDLE_WAIT_S = 0.1
# Tokens kept on a wake list: enough to wake every consumer of a burst, bounded when
# no consumer is idle to take them.
MAX_TOKENS = 16


class WakingRedisBroker(RedisBroker):
    @property
    def consumer_class(self):
        return _WakingConsumer

    def enqueue(self, message, *, delay=None):
        message = super().enqueue(message, delay=delay)
        if not delay:
            key = wake_key(self, message.queue_name)
            with self.client.pipeline(transaction=False) as pipe:
                pipe.lpush(key, 1)
                pipe.ltrim(key, 0, MAX_TOKENS - 1)
                pipe.execute()
        return message


def wake_key(broker, queue_name):
    return f"{broker.namespace}:{queue_name}.wake"


class _WakingConsumer(_RedisConsumer):
    def __init__(self, broker, queue_name, prefetch, timeout):
        super().__init__(broker, queue_name, prefetch, timeout)
        self.wakes = queue_name != dq_name(queue_name)
        self.busy_wait_s = timeout / 1000
        if self.wakes:
            self.timeout = 0  # Dramatiq's own sleep after an empty fetch: none, see __next__

    def __next__(self):
        message = super().__next__()
        if message is None and self.wakes:
            if self.outstanding_message_count < self.prefetch:
                try:
                    self.broker.client.blpop(
                        [wake_key(self.broker, self.queue_name)], timeout=IDLE_WAIT_S
                    )
                except redis.ConnectionError as error:
                    raise ConnectionClosed(error) from None
            else:
                time.sleep(self.busy_wait_s)
        return message
