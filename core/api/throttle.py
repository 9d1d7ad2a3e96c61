"""Requests per minute per API key, counted in Redis so that every web process shares them."""

import functools
import logging
import time

import redis
from django.conf import settings
from ninja.throttling import BaseThrottle

log = logging.getLogger(__name__)
WINDOW_S = 60


@functools.cache
def _client(url):
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


class KeyRateThrottle(BaseThrottle):
    """A fixed one-minute window: one INCR per request, the key expiring with its window."""

    def allow_request(self, request):
        limit = settings.API_RATE_LIMIT_PER_MINUTE
        if not limit:
            return True
        window = int(time.time() // WINDOW_S)
        counter = f"brickwork:api-rate:{request.auth.id}:{window}"
        try:
            pipe = _client(settings.REDIS_URL).pipeline()
            pipe.incr(counter)
            pipe.expire(counter, WINDOW_S * 2)
            count, _ = pipe.execute()
        except redis.RedisError as error:
            # Without Redis no run can be queued anyway; refusing reads too helps nobody.
            log.warning("rate limit not checked: %s", error.__class__.__name__)
            return True
        return count <= limit

    def wait(self):
        return WINDOW_S - time.time() % WINDOW_S
