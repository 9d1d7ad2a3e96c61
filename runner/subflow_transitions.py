"""A sub-workflow step's child run: started and cancelled inside the parent's transition;
the parent woken once the child's own transition committed (locks: parent first, then
child, never the other way; runner/subflows.py).

What the step runs and how it settles once its child ended is runner/subflows.py; this is
not there because cancelling goes through runner/compensation.py, which imports that.
Starting a child is the engine's `start_run`, going on with it the engine's `advance`,
and a wake-up the engine's `reconcile`: runner/engine.py hands them in, so this module
sits below the engine and never imports it.
"""

from collections.abc import Callable

from django.db import transaction

from core import references
from core.errors import InvalidInput
from runner import compensation, decisions, run_state, subflows
from runner.states import RunStatus, StepStatus, Trigger
from runner.transition import Transition, set_run, set_step


def start_child(tx: Transition, steps, step, spec: dict, start_run: Callable) -> dict | None:
    """Start the step's child run in this transaction (`start_run`: the engine's); the
    step runs (no attempt, no worker) until the child ends. Returns the error when it
    cannot start."""
    run = tx.run
    try:
        rendered = references.render(spec.get("input", {}), decisions.scope(run, steps))
        if not isinstance(rendered, dict):
            raise InvalidInput({"input": ["must be a JSON object"]})
        if subflows.depth_of(run.id) >= subflows.MAX_DEPTH:
            raise InvalidInput(
                {"workflow": [f"sub-workflows nest at most {subflows.MAX_DEPTH} deep"]}
            )
        workflow, version = subflows.child_target(run, spec)
        set_step(tx, step, StepStatus.RUNNING, started_at=tx.now, input=rendered)
        if run.status == RunStatus.QUEUED:
            set_run(tx, RunStatus.RUNNING, started_at=tx.now)
        tx.send_writes()
        child = start_run(
            workspace=workflow.workspace,
            definition=version.definition,
            input=rendered,
            send=tx.send,
            trigger=Trigger.PARENT,
            workflow=workflow,
            workflow_version=version,
            parent_step=step,
        )
    except (references.MissingReference, InvalidInput) as problem:
        if isinstance(problem, references.MissingReference):
            message, fields = f"the input refers to {problem.path}, which is missing", None
        else:
            message, fields = "the child run could not start", problem.fields
        error = {"type": "InvalidInput", "code": "child_failed", "message": message}
        error.update({"retryable": False, **({"fields": fields} if fields else {})})
        if step.status == StepStatus.PENDING:
            set_step(tx, step, StepStatus.RUNNING, started_at=tx.now)
        set_step(tx, step, StepStatus.FAILED, error=error, ended_at=tx.now)
        return error
    tx.event(
        "step.child_started", step=step, message=f"child run {child.id}", data={"run": child.id}
    )
    return None


def cancel_child(tx: Transition, child_id: int, advance: Callable) -> None:
    """Cancel a child run of this (compensating) run, inside its transaction (`advance`:
    the engine's): parent locked first, then the child, as everywhere."""
    child = run_state.lock(child_id)
    if child.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return
    child_tx = Transition(child, tx.send)
    child_steps = run_state.steps_of(child)
    reason = {"message": f"cancelled with its parent run {tx.run.id}"}
    compensation.begin(child_tx, child_steps, "cancelled", reason)
    advance(child_tx, child_steps)
    child_tx.flush()


def wake_parent(tx: Transition, parent_id: int, reconcile: Callable) -> None:
    """Once this transaction committed, let the parent run see that its child ended
    (`reconcile`: the engine's)."""
    send = tx.send
    transaction.on_commit(lambda: reconcile(parent_id, send=send), robust=True)
