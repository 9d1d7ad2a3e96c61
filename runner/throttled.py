"""Throttled attempts in the timeline: an attempt a limit holds shows as `throttled`, with
the limit's name and what it allows; one that ran after being held says which limit held
it. Read from the `attempt.throttled` events (runner/throttle.py), one query per build,
and only for a run that has such events."""

from runner.models import RunEvent
from runner.states import AttemptStatus
from runner.throttle import EVENT

STATUS = "throttled"


def mark(run, steps, rows_by_step):
    """Change the rows (timeline.AttemptRow, by step id) of throttled attempts in place."""
    if not rows_by_step:
        return
    held = {}
    events = RunEvent.objects.filter(run_id=run.id, type=EVENT).order_by("id")
    for kind, key, number, data in events.values_list("step_kind", "step_key", "attempt", "data"):
        held[(kind, key, number)] = data or {}
    if not held:
        return
    for step in steps:
        for row in rows_by_step.get(step["id"], ()):
            data = held.get((step["kind"], step["key"], row.number))
            if data is None:
                continue
            limit = data.get("limit", "a limit")
            if row.status == AttemptStatus.SCHEDULED:
                row.status, row.duration = STATUS, STATUS
                row.decision = f"throttled by {limit}: {data.get('reason', '')}"
                row.decision_kind = STATUS
            elif not row.decision:
                row.decision, row.decision_kind = f"held by {limit} first", STATUS
