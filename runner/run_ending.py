"""Ending a run before its steps do: cancelled by someone, or past its deadline.

Both stop new work and undo what succeeded (runner/compensation.py `begin`), in one
transaction as the engine's are (runner/engine.py), whose `advance` goes on from there.
A run's deadline is set as it starts (builder/run_timeout.py `deadline_of`). This module
sits above the engine, as its callers do (runner/launch.py); the engine never imports it.
"""

from django.db import transaction

from core.errors import InvalidTransition
from runner import compensation, engine, fastsql, run_state, subflows
from runner.models import Attempt, Run
from runner.states import AttemptStatus, RunStatus, StepKind, StepStatus
from runner.transition import Send, Transition, by_id, set_attempt, set_step


def cancel_run(run_id: int, user=None, by="", *, send: Send) -> None:
    """Stop new work, let running attempts end, then compensate; the run ends cancelled.
    `by` names who asked when it was no person (a schedule)."""
    with transaction.atomic():
        run = run_state.lock(run_id)
        if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            raise InvalidTransition(f"a {run.status} run cannot be cancelled")
        tx = Transition(run, send)
        steps = run_state.steps_of(run)
        by = by or getattr(user, "username", "") or "the API"
        compensation.begin(tx, steps, "cancelled", {"message": f"cancelled by {by}"})
        engine.advance(tx, steps)
        tx.flush()


def time_out_run(run_id: int, *, send: Send) -> bool:
    """End a run past its deadline (sweeper), as a failure that no route can take.

    1. Nothing new starts: pending steps are skipped, retries waiting are cancelled
       (runner/compensation.py `begin`).
    2. Running attempts fail with the error code `run_timeout`, and the steps still running
       with them; a result their worker reports later is ignored (compare-and-set).
    3. Child runs of sub-workflow steps are cancelled, as when the run is cancelled.
    4. The succeeded steps are compensated, whatever the deadline; the run ends
       `compensated`, or `failed` as any failed run does.
    Returns False when the run was no longer queued or running.
    """
    with transaction.atomic():
        run = run_state.lock(run_id)
        if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            return False
        tx = Transition(run, send)
        steps = run_state.steps_of(run)
        deadline = Run.objects.values_list("deadline", flat=True).get(id=run_id)
        error = run_timeout_error(deadline)
        compensation.begin(tx, steps, "timed_out", error)
        running = fastsql.rows(
            Attempt,
            ("id", "step_run_id", "number", "started_at"),
            {"run_id": run.id, "status": AttemptStatus.RUNNING},
        )
        decision = {"retry": False, "reason": "not retried: the run timed out"}
        for attempt in running:
            step = by_id(steps, attempt.step_run_id)
            duration_ms = (tx.now - attempt.started_at).total_seconds() * 1000
            set_attempt(
                tx,
                attempt.id,
                AttemptStatus.RUNNING,
                AttemptStatus.FAILED,
                step=step,
                number=attempt.number,
                data={"duration_ms": round(duration_ms, 2), "error": error},
                message=decision["reason"],
                ended_at=tx.now,
                duration_ms=duration_ms,
                error=error,
                retry_decision=decision,
            )
        for step in steps:
            # Its attempt failed above, or it holds none (a step that waits without one).
            # A sub-workflow step stays running: its child is cancelled below (`advance`)
            # and the step ends with it.
            if step.kind != StepKind.ACTION or step.status != StepStatus.RUNNING:
                continue
            if not subflows.is_subflow(run.step_spec(step.key)):
                set_step(tx, step, StepStatus.FAILED, error=error, ended_at=tx.now)
        engine.advance(tx, steps)
        tx.flush()
    return True


def run_timeout_error(deadline) -> dict:
    at = deadline.strftime("%Y-%m-%d %H:%M:%S UTC") if deadline else "its deadline"
    return {
        "type": "RunTimeout",
        "code": "run_timeout",
        "message": f"the run ran past its time limit ({at})",
        "retryable": False,
    }
