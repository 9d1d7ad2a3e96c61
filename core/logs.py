"""Log lines that carry the run, step and attempt they speak of; JSON with LOG_FORMAT=json.

The executor opens a `context(run_id=…, step_key=…, attempt=…)` around each attempt, and
ContextFilter copies it onto every record logged meanwhile in that thread (the engine's,
the action's, a library's), so no call site has to pass `extra=` by hand. Credentials in
URLs are masked in every line, and so are the secrets an attempt was handed (`hiding`), in
whatever an action or a library logs while it runs.
"""

import contextlib
import contextvars
import json
import logging
import re

from core.masking import mask

CONTEXT_FIELDS = ("run_id", "step_key", "attempt", "attempt_id", "worker", "workspace")
# The lookbehind starts a scheme only where one can begin: without it a long run of
# letters is rescanned from every position (quadratic on a log line of user data).
URL_CREDENTIALS = re.compile(
    r"(?<![a-z0-9+.-])(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s:@]*:[^/\s@]+@", re.I
)

_current = contextvars.ContextVar("brickwork_log_context", default=None)
_hidden = contextvars.ContextVar("brickwork_log_hidden", default=())


@contextlib.contextmanager
def context(**fields):
    """Add `fields` to every log record made inside the block (this thread or task)."""
    token = _current.set({**(_current.get() or {}), **fields})
    try:
        yield
    finally:
        _current.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current context onto the record, unless the call passed its own extra=."""

    def filter(self, record):
        for field, value in (_current.get() or {}).items():
            if not hasattr(record, field):
                setattr(record, field, value)
        record.context = "".join(
            f" {field}={getattr(record, field)}"
            for field in CONTEXT_FIELDS
            if hasattr(record, field)
        )
        return True


@contextlib.contextmanager
def hiding(secrets):
    """Mask these secret values in every line logged inside the block (this thread)."""
    token = _hidden.set(tuple(secrets))
    try:
        yield
    finally:
        _hidden.reset(token)


def scrub(text):
    return mask(URL_CREDENTIALS.sub(r"\g<scheme>***@", text), _hidden.get())


class TextFormatter(logging.Formatter):
    def format(self, record):
        if not hasattr(record, "context"):
            record.context = ""
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for field in CONTEXT_FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info:
            line["traceback"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, default=str)
