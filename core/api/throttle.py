"""Requests per minute per API key, counted in Redis so that every web process shares them."""

import time

from django.conf import settings
from ninja.throttling import BaseThrottle

from core import counters

WINDOW_S = 60


class KeyRateThrottle(BaseThrottle):
    """A fixed one-minute window: one INCR per request, the key expiring with its window."""

    def allow_request(self, request):
        limit = settings.API_RATE_LIMIT_PER_MINUTE
        if not limit:
            return True
        window = int(time.time() // WINDOW_S)
        # By the key's hash, not its row id: an id can come back to another key (SQLite
        # reuses rolled-back ids; a restored backup reuses any), its count with it.
        counter = f"brickwork:api-rate:{request.auth.hashed}:{window}"
        count = counters.increment(counter, WINDOW_S * 2)
        return count is None or count <= limit

    def wait(self):
        return WINDOW_S - time.time() % WINDOW_S
