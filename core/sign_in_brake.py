"""A brake on password guessing, shared by every web process through Redis.

After SIGN_IN_FAILURES_PER_NAME failed sign-ins for one name, or
SIGN_IN_FAILURES_PER_ADDRESS from one address, within SIGN_IN_WINDOW_MIN minutes,
sign-in is refused until the window ends, even with the right password.
"""

import time

from django.conf import settings

from core import counters
from core.audit import record


def engaged(name, address):
    return any(limit and counters.read(key) >= limit for key, limit in _keys(name, address))


def record_failure(name, address):
    """Count a failed sign-in, and audit it; the failure that engages the brake for the
    name or the address also records a lockout."""
    locked = []
    for (key, limit), kind in zip(_keys(name, address), ("name", "address"), strict=True):
        count = counters.increment(key, settings.SIGN_IN_WINDOW_MIN * 60)
        if limit and count == limit:
            locked.append(kind)
    label = (name or "").strip()[:150]
    record("auth.sign_in_failed", object_type="account", label=label)
    if locked:
        data = {"by": locked, "minutes": settings.SIGN_IN_WINDOW_MIN}
        record("auth.lockout", object_type="account", label=label, data=data)


def message():
    return f"Too many failed sign-ins. Try again in {settings.SIGN_IN_WINDOW_MIN} minutes."


def _keys(name, address):
    """(counter, limit) for the name and the address, in the current window."""
    window = int(time.time() // (settings.SIGN_IN_WINDOW_MIN * 60))
    name = (name or "").strip().lower()
    return [
        (f"brickwork:sign-in:name:{name}:{window}", settings.SIGN_IN_FAILURES_PER_NAME),
        (f"brickwork:sign-in:addr:{address}:{window}", settings.SIGN_IN_FAILURES_PER_ADDRESS),
    ]
