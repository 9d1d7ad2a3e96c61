"""Resuming a run's waiting steps from outside: the sweeper's wake-ups, an event, a decision.

Each is one transaction as the engine's are (runner/engine.py): lock the run, end the
waits (runner/wait_steps.py writes them; runner/waits.py decides how they end), then the
engine's `advance` starts what follows. This module sits above the engine, as its
callers do (runner/launch.py); the engine never imports it.
"""

from django.db import transaction

from core.errors import InvalidTransition
from runner import engine, run_state, wait_steps, waits
from runner.states import RunStatus, StepKind, StepStatus
from runner.transition import Send, Transition


class NotWaiting(InvalidTransition):
    """Nothing in the run waits for this event or decision (any more)."""


def wake_due(run_id: int, *, send: Send) -> int:
    """Resume the run's waiting steps whose `wake_at` has passed (the sweeper's call): a
    sleep succeeds, an event or approval times out by its `on_timeout`. Returns how many."""
    with transaction.atomic():
        run = run_state.lock(run_id)
        if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            return 0
        tx = Transition(run, send)
        steps = run_state.steps_of(run)
        due = [s for s in _waiting(steps) if s.wake_at is not None and s.wake_at <= tx.now]
        for step in due:
            if step.waiting_for == waits.ADMISSION:
                wait_steps.ask_admission_again(tx, step)
            elif step.status == StepStatus.WAITING and run.status == RunStatus.RUNNING:
                _end(tx, steps, step, waits.woke(run.step_spec(step.key), step.wake_at))
        engine.advance(tx, steps)
        tx.flush()
    return len(due)


def deliver_event(run_id: int, name: str, payload, *, send: Send) -> list[str]:
    """Resume every step of the run waiting for event `name`, the payload as its output.
    Returns their keys; NotWaiting when none waits (an early event is refused, not kept)."""
    with transaction.atomic():
        run = run_state.lock(run_id)
        tx = Transition(run, send)
        steps = run_state.steps_of(run)
        found = [s for s in _waiting(steps, run) if s.waiting_for == f"event:{name}"]
        if not found:
            raise NotWaiting(f"no step of run {run_id} is waiting for event {name!r}")
        for step in found:
            _end(tx, steps, step, waits.event_arrived(name, payload))
        engine.advance(tx, steps)
        tx.flush()
    return [s.key for s in found]


def decide_approval(
    run_id: int, key: str | None, *, approved: bool, by: str, comment: str, send: Send
) -> str:
    """Approve or reject the run's waiting approval step `key` (None: its only one); the
    step succeeds with {"approved", "by", "comment"}. Who may decide is the caller's
    check (`waits.may_decide`). Returns the step's key; NotWaiting when it does not wait."""
    with transaction.atomic():
        run = run_state.lock(run_id)
        tx = Transition(run, send)
        steps = run_state.steps_of(run)
        found = [
            s
            for s in _waiting(steps, run)
            if waits.approval_role(s.waiting_for) and (key is None or s.key == key)
        ]
        if len(found) != 1:
            which = f"step {key!r}" if key else "an approval step"
            many = " (several are: name the step)" if len(found) > 1 else ""
            raise NotWaiting(f"{which} of run {run_id} is not waiting for a decision{many}")
        _end(tx, steps, found[0], waits.decided(approved, by, comment, tx.now))
        engine.advance(tx, steps)
        tx.flush()
    return found[0].key


def _waiting(steps, run=None):
    if run is not None and run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return []
    return [s for s in steps if s.status == StepStatus.WAITING and s.kind == StepKind.ACTION]


def _end(tx, steps, step, outcome):
    """End one wait; a failed one is taken by its `on_error` route, or the run compensates."""
    error = wait_steps.end(tx, step, outcome)
    if error is not None:
        engine.after_failure(tx, steps, step, error)
