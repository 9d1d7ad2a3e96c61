"""Keeps `manage.py up`'s children running: one that dies is started again, with backoff.

A child that exits on its own (crash, OOM killer, `kill -9`) is started again with the same
command and environment after `restart_delay` seconds (1, 2, 4, ... capped at
MAX_DELAY_S), and the terminal is told so. The count starts over once a child has stayed
up STABLE_AFTER_S, so a child that crashes once a day always comes back after 1 s, while
one that cannot start at all is not restarted in a busy loop. The private Redis comes back
on the same port, so the URL that web and worker were given stays right.
"""

import time
from dataclasses import dataclass

from core.processes import Child

FIRST_DELAY_S = 1
MAX_DELAY_S = 30
STABLE_AFTER_S = 60


def restart_delay(failures: int) -> float:
    """Seconds before restart number `failures` (1, 2, ...) of a child in a row."""
    return min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (failures - 1))


@dataclass
class _Watched:
    child: Child
    stopped_last: bool  # others depend on it (Redis): stopped after them
    started_at: float
    failures: int = 0  # exits in a row, each within STABLE_AFTER_S of its start
    restart_at: float | None = None  # set while waiting to restart


class Supervisor:
    """Starts children, restarts those that die (`check`), stops them all in order (`stop`)."""

    def __init__(self, say, clock=time.monotonic):
        self.say, self.clock = say, clock
        self.watched = []

    def start(self, child: Child, *, stopped_last: bool = False) -> Child:
        """Watch `child` (started already when it has a process, else started here)."""
        if child.process is None:
            child.start()
        self.watched.append(_Watched(child, stopped_last, self.clock()))
        return child

    def check(self) -> None:
        """Restart the children whose delay is over; schedule the ones that just died."""
        now = self.clock()
        for watched in self.watched:
            child = watched.child
            if watched.restart_at is not None:
                if now >= watched.restart_at:
                    watched.restart_at = None
                    watched.started_at = now
                    child.start()
                    self.say(f"{child.name} restarted (pid {child.pid}).")
            elif not child.alive():
                stable = now - watched.started_at >= STABLE_AFTER_S
                watched.failures = 1 if stable else watched.failures + 1
                delay = restart_delay(watched.failures)
                watched.restart_at = now + delay
                self.say(f"{child.name} exited ({child.exit_reason()}); restarting in {delay:g} s")

    def stop(self) -> None:
        """Stop every child: the others together first, then those they depend on."""
        first = [w.child for w in self.watched if not w.stopped_last]
        last = [w.child for w in self.watched if w.stopped_last]
        for child in first:
            child.terminate()
        for child in [*reversed(first), *reversed(last)]:
            child.stop()
