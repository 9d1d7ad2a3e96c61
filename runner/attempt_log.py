"""What an action logged while its attempt ran, kept with the attempt (`Attempt.log`).

The worker wraps each action call in `capture()`: a handler on the root logger copies
every record made in that thread meanwhile (the action's own `logging` calls, a library's)
into the attempt's buffer. Lines pass through core/logs.py's `scrub` (credentials in URLs,
the secrets the attempt was handed) and the caller masks the text once more with the
workspace's secrets, so a secret's value never reaches the database. Bounded: the last
MAX_LINES lines, MAX_LINE_CHARS each, MAX_BYTES in all; older lines are dropped first.
"""

import collections
import contextlib
import contextvars
import logging
import time

from core import logs

MAX_LINES = 200
MAX_LINE_CHARS = 2000
MAX_BYTES = 16 * 1024

_buffer = contextvars.ContextVar("brickwork_attempt_log", default=None)
_installed = False


class Lines:
    """The lines of one attempt, the oldest dropped past MAX_LINES."""

    def __init__(self):
        self.lines = collections.deque(maxlen=MAX_LINES)
        self.dropped = 0

    def add(self, line):
        if len(self.lines) == MAX_LINES:
            self.dropped += 1
        self.lines.append(line[:MAX_LINE_CHARS])

    def text(self):
        """The lines as one text of at most MAX_BYTES, keeping the newest."""
        kept, size = [], 0
        for line in reversed(self.lines):
            size += len(line.encode()) + 1
            if size > MAX_BYTES:
                break
            kept.append(line)
        dropped = self.dropped + len(self.lines) - len(kept)
        head = [f"… {dropped} earlier lines not kept"] if dropped else []
        return "\n".join(head + kept[::-1])


class CaptureHandler(logging.Handler):
    """Copies records into the current attempt's Lines; does nothing outside one."""

    def emit(self, record):
        lines = _buffer.get()
        if lines is None:
            return
        try:
            lines.add(logs.scrub(_format(record)))
        except Exception:  # a broken record must not fail the attempt
            self.handleError(record)


def _format(record):
    stamp = time.strftime("%H:%M:%S", time.gmtime(record.created))
    line = (
        f"{stamp}.{int(record.msecs):03d} {record.levelname} {record.name}: {record.getMessage()}"
    )
    if record.exc_info:
        line += "\n" + logging.Formatter().formatException(record.exc_info)
    return line


@contextlib.contextmanager
def capture(lines):
    """Collect into `lines` (a Lines) what is logged in this thread inside the block."""
    _install()
    token = _buffer.set(lines)
    try:
        yield
    finally:
        _buffer.reset(token)


def _install():
    global _installed
    if not _installed:
        logging.getLogger().addHandler(CaptureHandler())
        _installed = True
