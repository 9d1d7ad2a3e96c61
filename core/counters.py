"""Counters that every web process shares, in the coordination Redis (`REDIS_URL`):
API requests per key and minute, failed sign-ins per name and address; and one-use marks
(a webhook signature seen once)."""

import functools
import logging

import redis
from django.conf import settings

log = logging.getLogger(__name__)


@functools.cache
def _client(url):
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def coordination_redis():
    """The process's client of the coordination Redis (also the sweeper's lock)."""
    return _client(settings.REDIS_URL)


def increment(key, ttl_s):
    """The counter's new value, or None when Redis cannot be reached (callers then let
    the request through: without Redis no run can be queued anyway)."""
    try:
        pipe = _client(settings.REDIS_URL).pipeline()
        pipe.incr(key)
        pipe.expire(key, ttl_s)
        count, _ = pipe.execute()
    except redis.RedisError as error:
        log.warning("counter %s not updated: %s", key.split(":")[1], error.__class__.__name__)
        return None
    return count


def add(key, amount):
    """Add to a counter that never expires (a /metrics total); a missed add is only logged."""
    try:
        _client(settings.REDIS_URL).incrby(key, amount)
    except redis.RedisError as error:
        log.warning("counter %s not updated: %s", key.split(":")[1], error.__class__.__name__)


def read(key):
    try:
        return int(_client(settings.REDIS_URL).get(key) or 0)
    except redis.RedisError:
        return 0


def claim(key, ttl_s):
    """True the first time `key` is claimed within `ttl_s`, False after that; None when
    Redis cannot be reached (callers then let the request through, as for counters)."""
    try:
        return bool(_client(settings.REDIS_URL).set(key, 1, nx=True, ex=ttl_s))
    except redis.RedisError as error:
        log.warning("mark %s not set: %s", key.split(":")[1], error.__class__.__name__)
        return None


def release(key):
    """Forget a claim, so that the same request may be tried again."""
    try:
        _client(settings.REDIS_URL).delete(key)
    except redis.RedisError:
        pass  # it expires on its own
