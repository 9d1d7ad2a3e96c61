"""A wait step's moves inside a transition: held for admission, begun, ended.

What a wait starts as and how it ends is decided in runner/waits.py (pure); this module
writes it through the transition at hand. The engine (runner/engine.py) calls `admitted`
and `begin` as it advances a run; runner/wait_transitions.py calls `ask_admission_again`
and `end` as waiting steps resume. As in runner/for_each.py, a function that can fail the
step returns its error, and its caller decides what follows (an `on_error` route, or
compensation), so nothing here imports the engine.
"""

from runner import decisions, run_gate, waits
from runner.models import StepRun
from runner.states import RunStatus, StepStatus
from runner.transition import Transition, set_run, set_step


def admitted(tx: Transition, step) -> bool:
    """Whether the step may start its run, which is queued. A run whose first step is an
    action takes its place under its workflow's limits as that attempt is claimed
    (runner/throttle.py); a step that holds no attempt (a wait, a sub-workflow) takes it
    here. Held, the step waits for admission until its `wake_at`, when the sweeper has it
    ask again (`ask_admission_again`)."""
    if tx.run.status != RunStatus.QUEUED or (wait := run_gate.wait(tx.run)) is None:
        return True
    held = waits.held(wait, tx.now)
    set_step(
        tx,
        step,
        StepStatus.WAITING,
        wake_at=held.wake_at,
        waiting_for=held.waiting_for,
        message=held.message,
    )
    return False


def ask_admission_again(tx: Transition, step) -> None:
    """A step held for admission: still held, it asks again later (no event: the first
    said why); admitted, it goes back to pending and the engine's `advance` starts it."""
    wait = run_gate.wait(tx.run) if tx.run.status == RunStatus.QUEUED else None
    if wait is not None:
        step.wake_at = waits.held(wait, tx.now).wake_at
        tx.writes.update(StepRun, step.id, StepStatus.WAITING, wake_at=step.wake_at)
        return
    set_step(tx, step, StepStatus.PENDING, wake_at=None, waiting_for="", message="admitted")


def begin(tx: Transition, steps, step, spec: dict) -> dict | None:
    """Pending -> waiting, with when it wakes and what it waits for; no attempt, no
    message: the sweeper, an event or a decision resumes it. Returns the error when the
    wait cannot begin (the step is then failed), else None."""
    begun = waits.start(spec, decisions.scope(tx.run, steps), tx.now)
    if begun.error is not None:
        set_step(tx, step, StepStatus.RUNNING, started_at=tx.now)
        set_step(tx, step, StepStatus.FAILED, error=begun.error, ended_at=tx.now)
        return begun.error
    if tx.run.status == RunStatus.QUEUED:
        set_run(tx, RunStatus.RUNNING, started_at=tx.now)
    set_step(
        tx,
        step,
        StepStatus.WAITING,
        started_at=tx.now,
        wake_at=begun.wake_at,
        waiting_for=begun.waiting_for,
        message=begun.message,
    )
    if begun.waiting_for == waits.SLEEP and begun.wake_at <= tx.now:
        return end(tx, step, waits.woke(spec, begun.wake_at))  # a time already past
    return None


def end(tx: Transition, step, outcome: waits.End) -> dict | None:
    """Waiting -> succeeded with the outcome's output, or failed: then returns the error,
    for the caller to route (`on_error`) or compensate."""
    if outcome.error is not None:
        set_step(
            tx,
            step,
            StepStatus.FAILED,
            error=outcome.error,
            ended_at=tx.now,
            message=outcome.message,
        )
        return outcome.error
    set_step(
        tx,
        step,
        StepStatus.SUCCEEDED,
        output=outcome.output,
        ended_at=tx.now,
        message=outcome.message,
        data=outcome.data,
    )
    return None
