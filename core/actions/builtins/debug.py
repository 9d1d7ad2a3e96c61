"""Deterministic actions for trying things out and for tests."""

import logging
import time

from core.actions.registry import action
from core.errors import ActionError, AttemptTimeout, NonRetryable


@action(
    "debug.echo",
    input_schema={"type": "object", "description": "Anything; returned as the output."},
    retry={"max_attempts": 1},
    timeout_s=10,
    pure=True,
)
def echo(ctx, input):
    """Return the input as the output."""
    return input


@action(
    "debug.sleep",
    input_schema={
        "type": "object",
        "properties": {"ms": {"type": "integer", "minimum": 0, "maximum": 3_600_000}},
        "required": ["ms"],
        "additionalProperties": False,
    },
    retry={"max_attempts": 3},
    timeout_s=60,
)
def sleep(ctx, input):
    """Sleep `ms` milliseconds, never past the attempt's deadline."""
    wanted = input["ms"] / 1000
    if wanted > ctx.remaining():
        time.sleep(ctx.remaining())
        raise AttemptTimeout(f"sleep of {input['ms']} ms ran past the attempt's deadline")
    time.sleep(wanted)
    return {"slept_ms": input["ms"]}


@action(
    "debug.fail",
    input_schema={
        "type": "object",
        "properties": {
            "fail_times": {"type": "integer", "minimum": -1, "default": -1},
            "retryable": {"type": "boolean", "default": True},
            "message": {"type": "string"},
            "code": {"type": "string", "maxLength": 100},
        },
        "additionalProperties": False,
    },
    retry={"max_attempts": 3, "initial_interval_s": 0.2},
    timeout_s=10,
)
def fail(ctx, input):
    """Fail the first `fail_times` attempts (always when -1), then succeed."""
    fail_times = input.get("fail_times", -1)
    if fail_times == -1 or ctx.attempt <= fail_times:
        message = input.get("message") or f"debug.fail failed attempt {ctx.attempt} on purpose"
        code = input.get("code", "")
        if input.get("retryable", True):
            raise ActionError(message, code=code)
        raise NonRetryable(message, code=code)
    return {"succeeded_on_attempt": ctx.attempt}


@action(
    "debug.log",
    input_schema={
        "type": "object",
        "properties": {
            "lines": {
                "type": "array",
                "items": {"type": "string", "maxLength": 10_000},
                "maxItems": 1000,
            },
            "level": {"enum": ["debug", "info", "warning", "error"], "default": "info"},
            "output": {"description": "Returned as the output (default: the lines' count)."},
        },
        "required": ["lines"],
        "additionalProperties": False,
    },
    retry={"max_attempts": 1},
    timeout_s=10,
)
def log_lines(ctx, input):
    """Log each of `lines` with Python's `logging`, then return `output`: what the run
    page shows beside an attempt's output (runner/attempt_log.py)."""
    logger = logging.getLogger("brickwork.debug")
    level = logging.getLevelNamesMapping()[input.get("level", "info").upper()]
    for line in input["lines"]:
        logger.log(level, "%s", line)
    return input["output"] if "output" in input else {"logged": len(input["lines"])}


@action(
    "debug.fib",
    input_schema={
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 0, "maximum": 25}},
        "required": ["n"],
        "additionalProperties": False,
    },
    retry={"max_attempts": 1},
    timeout_s=10,
)
def fib(ctx, input):
    """Compute fib(n) the slow recursive way: a light CPU task, the unit of the
    "40 sequential light tasks" benchmark peers publish. Not declared pure, so it takes
    the path of users' own functions (a transaction per step)."""
    return {"n": input["n"], "fib": _fib(input["n"])}


def _fib(n):
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)
