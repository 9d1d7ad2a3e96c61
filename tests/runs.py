"""Helpers for tests that start runs and wait for them."""

import time

from builder.definition import validate
from runner import launch
from runner.models import Run


def start(workspace, steps, input=None, **kwargs):
    definition = validate({"name": "test", "steps": steps}, workspace)
    return launch.start_run(workspace=workspace, definition=definition, input=input or {}, **kwargs)


def wait_for(run, statuses=("succeeded", "compensated", "failed", "cancelled"), timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = Run.objects.get(id=run.id)
        if run.status in statuses:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run.id} still {run.status} after {timeout}s")


def attempts_of(run, key, kind="action"):
    return list(run.attempts.filter(step_run__key=key, step_run__kind=kind).order_by("number"))


def duplicated_transitions(run):
    """Events that repeat a transition of the same step/attempt (must be none)."""
    seen, duplicates = set(), []
    for event in run.events.order_by("id"):
        if event.type in ("run.flagged",):
            continue
        key = (event.type, event.step_key, event.step_kind, event.attempt, event.to_status)
        if key in seen:
            duplicates.append(key)
        seen.add(key)
    return duplicates
