"""One sweeper at a time, on either broker: the lock lives in the coordination Redis."""

import time

from django.conf import settings

from core.counters import coordination_redis
from runner import sweeper


def test_a_second_sweeper_does_not_get_the_lock_while_the_first_holds_it():
    # Given a sweeper that took the lock (a live worker may hold it for a moment first)
    deadline = time.time() + 5
    while not sweeper._take_lock():
        assert time.time() < deadline, "the sweeper lock was never free"
        time.sleep(0.02)
    # When another sweeper tries within the same interval
    # Then it is refused, and the lock is in the coordination Redis, with an expiry
    assert sweeper._take_lock() is False
    assert 0 < coordination_redis().pttl(sweeper.LOCK_KEY) <= 1000 * settings.SWEEP_INTERVAL_S
