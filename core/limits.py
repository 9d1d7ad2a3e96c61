"""Concurrency and rate limits that hold across hosts, kept in the coordination Redis.

One Lua script checks every limit a piece of work falls under and takes all or none, so
two limits can never be half-taken:
- rate: GCRA (the generic cell rate algorithm of ATM networks, as in redis-cell and
  Stripe's limiters): one number per key, the theoretical arrival time (TAT) of the next
  request; a request is allowed while TAT - now stays within the burst.
- concurrency: a semaphore of leases: a sorted set of holders scored by when their lease
  runs out. A holder renews while it works; a killed holder stops renewing, its lease
  runs out and its slot comes back by itself.
- waiters: who was refused, kept a little while only to spread their next tries (a
  thousand waiters do not all ask again at the same instant).
Times are Redis's own clock (TIME), so hosts whose clocks drift still agree, and the time
of a grant is handed back: it is when the work may say it started.
"""

import hashlib
import logging
from dataclasses import dataclass

from core.counters import coordination_redis

log = logging.getLogger(__name__)

PREFIX = "brickwork:limit"
WAITER_TTL_US = 30_000_000  # a waiter that stops asking is forgotten after this

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local holder, waiter = ARGV[1], ARGV[2]
local lease, waiter_ttl, n = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local refused, kind, wait, new_tats = 0, 0, 0, {}
for i = 1, n do
  local held, tat_key = KEYS[3 * i - 2], KEYS[3 * i - 1]
  local most = tonumber(ARGV[3 * i + 3])
  local interval = tonumber(ARGV[3 * i + 4])
  local burst = tonumber(ARGV[3 * i + 5])
  if most > 0 then
    redis.call('ZREMRANGEBYSCORE', held, '-inf', now)
    if redis.call('ZCARD', held) >= most and refused == 0 then refused, kind = i, 1 end
  end
  if interval > 0 then
    local tat = tonumber(redis.call('GET', tat_key) or '0')
    if tat < now then tat = now end
    local allowed_at = tat + interval - interval * burst
    if now < allowed_at then
      if refused == 0 then refused, kind = i, 2 end
      if allowed_at - now > wait then wait = allowed_at - now end
    end
    new_tats[i] = tat + interval
  end
end
if refused > 0 then
  local waiters = KEYS[3 * refused]
  redis.call('ZREMRANGEBYSCORE', waiters, '-inf', now)
  redis.call('ZADD', waiters, now + waiter_ttl, waiter)
  redis.call('PEXPIRE', waiters, math.ceil(waiter_ttl / 1000))
  return {0, string.format("%.0f", now), refused, wait, redis.call('ZCARD', waiters), kind}
end
for i = 1, n do
  local most = tonumber(ARGV[3 * i + 3])
  if most > 0 then
    redis.call('ZADD', KEYS[3 * i - 2], now + lease, holder)
    redis.call('PEXPIRE', KEYS[3 * i - 2], math.ceil(lease / 1000) + 1000)
  end
  if new_tats[i] then
    redis.call('SET', KEYS[3 * i - 1], new_tats[i], 'PX', math.ceil((new_tats[i] - now) / 1000) + 1)
  end
  redis.call('ZREM', KEYS[3 * i], waiter)
end
return {1, string.format("%.0f", now)}
"""

_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local kept = 0
for i = 1, #KEYS do
  if redis.call('ZADD', KEYS[i], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1]) == 1 then
    kept = kept + 1
  end
  redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2]) / 1000) + 1000)
end
return kept
"""


@dataclass(frozen=True)
class Limit:
    """One bucket: `name` is what people see; `bucket` tells its Redis keys apart (a
    limit's id and the key's value, e.g. the host an action calls)."""

    name: str
    bucket: str
    max_concurrent: int | None = None
    rate_per_s: float | None = None
    burst: int = 1

    def keys(self):
        digest = hashlib.sha256(self.bucket.encode()).hexdigest()[:24]
        base = f"{PREFIX}:{digest}"
        return (f"{base}:held", f"{base}:tat", f"{base}:wait")


@dataclass(frozen=True)
class Grant:
    """Every limit taken. `at_us` is Redis's time of the grant (µs since 1970); `held` the
    semaphore keys leased to `holder`, to renew while working and release after."""

    at_us: int
    holder: str
    held: tuple


@dataclass(frozen=True)
class Refusal:
    """The first limit that refused, how long its rate needs before a try can succeed
    (0 when only concurrency refused: nobody knows when a slot frees), and how many wait."""

    limit: Limit
    at_us: int
    wait_s: float
    waiting: int
    by_rate: bool

    @property
    def reason(self):
        if self.by_rate:
            return f"{self.limit.rate_per_s:g} per second"
        return f"{self.limit.max_concurrent} at once"

    def spread_s(self, most_s=5.0):
        """When to ask again: after the rate's own wait, and later the more wait ahead
        (one rate interval, or 50 ms of a slot, per waiter), so that waiters ask about as
        often as slots free."""
        limit = self.limit
        per_waiter = 1 / limit.rate_per_s if limit.rate_per_s else 0.05
        return max(self.wait_s, min(most_s, self.waiting * per_waiter), 0.02)


def acquire(limits, holder, waiter, lease_s):
    """Take every one of `limits` for `holder` (unique per try), or none of them.

    Returns a Grant or a Refusal; raises redis.RedisError when Redis cannot be reached.
    `waiter` names who asks (the same on every try) to count the waiting.
    """
    keys, args = [], [holder, waiter, int(lease_s * 1e6), WAITER_TTL_US, len(limits)]
    for limit in limits:
        keys.extend(limit.keys())
        interval = int(-(-1_000_000 // limit.rate_per_s)) if limit.rate_per_s else 0
        args.extend([limit.max_concurrent or 0, interval, max(1, limit.burst or 1)])
    answer = _script(_ACQUIRE)(keys=keys, args=args)
    at_us = int(answer[1])
    if answer[0] == 1:
        held = tuple(limit.keys()[0] for limit in limits if limit.max_concurrent)
        return Grant(at_us=at_us, holder=holder, held=held)
    refused = limits[int(answer[2]) - 1]
    return Refusal(
        limit=refused,
        at_us=at_us,
        wait_s=int(answer[3]) / 1e6,
        waiting=int(answer[4]),
        by_rate=answer[5] == 2,
    )


def renew(grant, lease_s):
    """Push the grant's leases on by `lease_s`; the number still held (0: they ran out)."""
    if not grant.held:
        return 0
    return _script(_RENEW)(keys=list(grant.held), args=[grant.holder, int(lease_s * 1e6)])


def release(grant):
    """Give the grant's concurrency slots back (rate is spent: nothing to give back)."""
    if not grant.held:
        return
    pipe = coordination_redis().pipeline(transaction=False)
    for key in grant.held:
        pipe.zrem(key, grant.holder)
    pipe.execute()


def holders(limit):
    """Who holds `limit` now (expired leases left out): for pages and tests."""
    import time

    now_us = int(time.time() * 1e6)
    return [h.decode() for h in coordination_redis().zrangebyscore(limit.keys()[0], now_us, "+inf")]


_scripts = {}


def _script(source):
    # register_script keeps the SHA and falls back to EVAL once when Redis forgot it.
    client = coordination_redis()
    key = (id(client), source)
    if key not in _scripts:
        _scripts[key] = client.register_script(source)
    return _scripts[key]
