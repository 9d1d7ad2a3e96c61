"""Compensation: once a step fails for good (or the run is cancelled), nothing new starts
and the succeeded steps are undone, newest first, one at a time; then the run ends.

Called inside the engine's transitions (runner/engine.py), writing through them.
"""

from runner import fastsql, for_each, subflows
from runner.models import Attempt, Run
from runner.run_state import action_version, lock, steps_of
from runner.states import AttemptStatus, RunStatus, StepKind, StepStatus
from runner.steps import start_step
from runner.transition import (
    Transition,
    add_step,
    by_id,
    flag_run,
    set_attempt,
    set_run,
    set_step,
)


def after_step_failed(tx, steps, step, error):
    """A failed compensation flags the run for review (the others still run); a failed
    action step starts the run's compensation."""
    run = tx.run
    if step.kind == StepKind.COMPENSATION:
        flag_run(tx, step, "a compensation failed")
        return
    if run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        summary = {"step": step.key, "message": error.get("message", ""), "type": error.get("type")}
        if error.get("fields"):
            summary["fields"] = error["fields"]
        begin(tx, steps, "failed", summary)


def begin(tx, steps, ending, error):
    """Nothing new starts: pending and waiting steps are skipped, waiting retries cancelled.

    `ending` is why the run stops ("failed", "cancelled", "timed_out"): a cancelled run
    ends cancelled once compensated, the others compensated or failed.
    """
    run = tx.run
    set_run(tx, RunStatus.COMPENSATING, ending=ending, error=error)
    # Attempts still waiting, this transaction's among them (sent first), locked: a worker
    # claiming one now waits for this commit, then finds it cancelled.
    tx.send_writes()
    waiting = fastsql.rows(
        Attempt,
        ("id", "step_run_id", "number"),
        {"run_id": run.id, "status": AttemptStatus.SCHEDULED},
        lock=True,
    )
    cancelled_steps = set()
    top_level = {s.id for s in steps}
    items = for_each.children([a.step_run_id for a in waiting if a.step_run_id not in top_level])
    for attempt in waiting:
        step = items.get(attempt.step_run_id) or by_id(steps, attempt.step_run_id)
        set_attempt(
            tx,
            attempt.id,
            AttemptStatus.SCHEDULED,
            AttemptStatus.CANCELLED,
            step=step,
            number=attempt.number,
            ended_at=tx.now,
        )
        cancelled_steps.add(step.id)
    for step in [*steps, *items.values()]:
        if step.kind not in (StepKind.ACTION, StepKind.ITEM):
            continue
        if step.status in (StepStatus.PENDING, StepStatus.WAITING) or step.id in cancelled_steps:
            set_step(
                tx,
                step,
                StepStatus.SKIPPED,
                ended_at=tx.now,
                message=f"the run {ending.replace('_', ' ')}",
            )
    for_each.stop(tx, steps, ending.replace("_", " "))


def compensate_next(tx, steps):
    """Once nothing runs, undo succeeded steps newest first, one at a time; then finish."""
    run = tx.run
    if any(s.status == StepStatus.RUNNING for s in steps):
        return  # in-flight attempts end first; a step that succeeds now gets undone too
    nested = for_each.has_for_each(run)
    if nested:
        tx.send_writes()
        if for_each.children_running(run):
            return  # a for-each's items in flight, likewise
    compensated = {s.compensates_id for s in steps if s.kind == StepKind.COMPENSATION}
    todo = [s for s in steps if _to_undo(run, s) and s.id not in compensated]
    while todo:
        todo.sort(key=lambda s: (s.ended_at or tx.now, s.position), reverse=True)
        original = todo.pop(0)
        if subflows.is_subflow(run.step_spec(original.key)):
            if _undo_child(tx, steps, original):
                return
            continue
        if for_each.is_for_each(run.step_spec(original.key)):
            # Its succeeded items, one at a time, newest first (whatever the step's status).
            item = for_each.next_to_undo(original)
            if item is None:
                continue
            if for_each.start_compensation(tx, steps, original, item) is None:
                return
            flag_run(tx, original, "a compensation failed")  # its input was unusable: go on
            todo.append(original)
            continue
        ref = run.step_spec(original.key)["compensate"]["action"]
        step = add_step(
            tx,
            run_id=run.id,
            key=original.key,
            kind=StepKind.COMPENSATION,
            position=original.position,
            action_version_id=run.action_versions[ref],
            compensates_id=original.id,
        )
        step.action_version = action_version(step.action_version_id)
        steps.append(step)
        error = start_step(tx, steps, step)
        if error is None:
            return
        flag_run(tx, step, "a compensation failed")  # its input was unusable: go on
    ran = {s.status for s in steps if s.kind == StepKind.COMPENSATION}
    if nested:
        ran |= set(for_each.compensations_ran(run))  # the items' compensations
    if run.ending == "cancelled":
        final = RunStatus.CANCELLED
    elif (ran or run.ending == "parent") and StepStatus.FAILED not in ran:
        final = RunStatus.COMPENSATED
    else:
        final = RunStatus.FAILED
    set_run(tx, final, ended_at=tx.now)


def _to_undo(run, step):
    """A succeeded step with a compensation or a child run (`_undoable`); a for-each step,
    whatever its status: its succeeded items are undone one by one."""
    spec = run.step_spec(step.key)
    if step.kind != StepKind.ACTION or not _undoable(spec):
        return False
    if for_each.is_for_each(spec):
        return step.status != StepStatus.PENDING
    return step.status == StepStatus.SUCCEEDED


def _undoable(spec):
    """A step with a compensation, or a sub-workflow step (its child run has its own)."""
    return bool(spec.get("compensate")) or subflows.is_subflow(spec)


def _undo_child(tx, steps, original):
    """Compensate the succeeded child run of a sub-workflow step, as a compensation step
    that waits (no worker) until the child is undone. True while it is under way.

    The child, locked after its parent as everywhere, goes succeeded -> compensating
    with `ending` "parent" and undoes its own succeeded steps newest first; it ends
    compensated, or failed when one of its compensations failed.
    """
    run = tx.run
    step = add_step(
        tx,
        run_id=run.id,
        key=original.key,
        kind=StepKind.COMPENSATION,
        position=original.position,
        action_version_id=None,
        compensates_id=original.id,
    )
    step.action_version = None
    steps.append(step)
    set_step(tx, step, StepStatus.RUNNING, started_at=tx.now)
    child_id = Run.objects.filter(parent_step_id=original.id).values_list("id", flat=True).first()
    child = lock(child_id) if child_id else None
    if child is None or child.status != RunStatus.SUCCEEDED:
        # Its output was reused by a rerun, or it was undone already: nothing to do here.
        set_step(tx, step, StepStatus.SUCCEEDED, ended_at=tx.now, message="no child run to undo")
        return False
    child_tx = Transition(child, tx.send)
    child_steps = steps_of(child)
    message = f"undone by its parent run {run.id}"
    set_run(child_tx, RunStatus.COMPENSATING, ending="parent", error={"message": message})
    compensate_next(child_tx, child_steps)
    child_tx.flush()
    subflows.settle(tx, steps, None)  # a child with nothing to undo is compensated now
    return step.status == StepStatus.RUNNING
