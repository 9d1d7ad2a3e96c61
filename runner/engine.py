"""The engine: the only code that changes the status of a run, a step or an attempt.

Every entry point is one database transaction that
1. locks the run row (so two workers finishing parallel steps cannot both miss, or both
   start, the step that waits for them),
2. moves rows forward with compare-and-set updates, so a duplicate message or a late
   result changes nothing,
3. appends one RunEvent per transition, and
4. hands the attempts to send (ids only) to its caller's `send` after the commit.

Every write goes through one `Transition` (runner/transition.py), checked against the
tables of allowed status changes (runner/states.py); what it reads of a run is
runner/run_state.py; starting a step, runner/steps.py; compensation,
runner/compensation.py; the retry decision, core/retry.py. Callers that start runs from
the outside go through runner/launch.py, which hands the engine the broker's `send`.

This module is the step path: a run starts, its attempts are claimed and end, and
`advance` decides what follows. Imports point one way around it. Below, what `advance`
calls for the steps that hold no attempt: a wait begins in runner/wait_steps.py, a child
run starts and stops in runner/subflow_transitions.py (handed `start_run`, `advance` and
`reconcile` to call back). Above, what changes a run from outside its attempts and then
calls `advance`: waits resumed in runner/wait_transitions.py, a cancel or a time-out in
runner/run_ending.py.

Actors only claim an attempt, call the action, and hand the outcome back here.
"""

import logging
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from builder import run_timeout
from core import key_order, retry, schemas
from core.actions.registry import is_pure
from core.errors import InvalidInput
from runner import (
    compensation,
    decisions,
    fastsql,
    for_each,
    lazy_transaction,
    run_gate,
    run_state,
    subflow_transitions,
    subflows,
    throttle,
    wait_steps,
    waits,
)
from runner.models import Attempt, Run, StepRun
from runner.states import (
    ACTIVE_RUN,
    FINISHED_RUN,
    AttemptStatus,
    RunStatus,
    StepKind,
    StepStatus,
    Trigger,
)
from runner.steps import schedule_attempt, spec_of, start_step, timeout_of
from runner.transition import (
    Dispatch,
    LostUpdate,
    Send,
    Transition,
    add_steps,
    by_id,
    claim_of,
    make_claim,
    mark_handled,
    resolve_original,
    send_safely,
    set_attempt,
    set_run,
    set_step,
)

__all__ = ["Dispatch", "NOT_RUN"]

logger = logging.getLogger(__name__)

# A message may arrive a little before its attempt is due (clock skew between hosts).
EARLY_TOLERANCE = timedelta(milliseconds=50)
MAX_RETRY_AFTER_S = 3600
# How much one transaction may run inline (complete_attempt): it holds the run's lock.
INLINE_MAX_STEPS = 50
INLINE_MAX_S = 0.05
NOT_RUN = object()


# ---------------------------------------------------------------------------
# Starting runs


def start_run(
    *,
    workspace,
    definition,
    input,
    send: Send,
    trigger=Trigger.MANUAL,
    workflow=None,
    workflow_version=None,
    action=None,
    user=None,
    rerun_of=None,
    rerun_from="",
    reuse=None,
    resolve_original=False,
    schedule=None,
    scheduled_for=None,
    parent_step=None,
    also_insert=(),
) -> Run:
    """Create a run of a validated definition and start the steps that wait for nothing.

    1. Check the run input against the definition's `input_schema` (InvalidInput).
    2. Pin every action ref to its ActionVersion.
    3. In one transaction: the run, one StepRun per step (copies for `reuse`d steps),
       the first attempts, their events, and `also_insert` ((model, function of the run
       giving the row) pairs: a webhook's delivery, the audit log's entry); `send` gets the
       attempts after the commit.

    On PostgreSQL outside a caller's transaction, the run's and its steps' ids are taken
    first, so that a plain run is one statement with no BEGIN or COMMIT around it
    (runner/lazy_transaction.py): two round trips instead of six.

    `parent_step` (a StepRun state of a running sub-workflow step) makes it that step's
    child run (runner/subflows.py).
    """
    if not isinstance(input, dict):
        raise InvalidInput({"input": ["must be a JSON object"]})
    if definition.get("input_schema"):
        schemas.check(definition["input_schema"], input)
    versions = run_state.pin_action_versions(definition, workspace)
    reuse = reuse or {}
    # No savepoint when called inside a caller's transaction (idempotency key): two round
    # trips saved, and no caller goes on after an error in it.
    with lazy_transaction.lazy() as unit:
        run = Run(
            workspace=workspace,
            workflow=workflow,
            workflow_version=workflow_version,
            action=action,
            definition=definition,
            action_versions={ref: version.id for ref, version in versions.items()},
            input=input,
            trigger=trigger,
            created_by=user,
            rerun_of=rerun_of,
            rerun_from=rerun_from,
            resolve_original=resolve_original,
            schedule=schedule,
            scheduled_for=scheduled_for,
            concurrency_key=run_gate.key_of(definition, input),
            parent_run_id=parent_step.run_id if parent_step else None,
            parent_step_id=parent_step.id if parent_step else None,
            deadline=run_timeout.deadline_of(definition, timezone.now()),
        )
        tx = Transition(run, send)
        ids_first = not unit.begun
        if ids_first:
            with unit.alone():  # a nextval is not undone by a rollback anyway
                [run.pk], step_ids = fastsql.next_ids((Run, 1), (StepRun, len(definition["steps"])))
            # Anything else the start does reads the run and its steps as if written at once.
            unit.on_begin = lambda: tx.writes.sending or tx.send_writes()
            _insert_with_id(tx, run)
        else:
            tx.writes.create([run])
        steps = []
        for position, spec in enumerate(definition["steps"]):
            step = StepRun(
                run=run,
                key=spec["key"],
                position=position,
                action_version=versions.get(spec.get("action")),
            )
            original = reuse.get(spec["key"])
            if original is not None:
                step.status = StepStatus.SUCCEEDED
                # In the order the original wrote them (core/key_order.py).
                step.input = key_order.ordered(original, "input")
                step.output = key_order.ordered(original, "output")
                step.reused_from = original
                step.started_at, step.ended_at = original.started_at, original.ended_at
            steps.append(step)
        if ids_first:
            for step, step_id in zip(steps, step_ids, strict=True):
                step.pk = step_id
                _insert_with_id(tx, step)
        else:
            add_steps(tx, steps)
        tx.event("run.created", to_status=RunStatus.QUEUED, data={"trigger": trigger})
        for step in steps:
            if step.reused_from_id:
                tx.event(
                    "step.reused",
                    step=step,
                    to_status=StepStatus.SUCCEEDED,
                    message=f"output reused from run {rerun_of.id}" if rerun_of else "",
                )
        for step, spec in zip(steps, definition["steps"], strict=True):
            if spec.get("skip") and step.status == StepStatus.PENDING:
                why = decisions.skipped_by_person(spec)
                set_step(tx, step, StepStatus.SKIPPED, ended_at=tx.now, message=why)
        advance(tx, steps)
        for model, row_for in also_insert:
            tx.writes.insert(model, row_for(run))
        with unit.alone():  # the last statement: alone, it is the whole start
            tx.flush()
    return run


def _insert_with_id(tx, instance):
    """Insert a new run or step whose id is already taken (`fastsql.next_ids`): later
    writes of this transaction to it change the row to insert (`fastsql.Writes`)."""
    tx.writes.insert(type(instance), fastsql.row_of(instance))
    instance._state.adding = False
    instance._state.db = "default"


# ---------------------------------------------------------------------------
# Attempts: claim, succeed, fail


def claim_attempt(attempt_id: int, worker: str, *, send: Send):
    """Take a scheduled attempt for this worker (a ClaimedAttempt); None when it is not
    (or no longer) ours."""
    found = fastsql.attempt_with_step_and_run(
        attempt_id,
        (Attempt, ("id", "number", "status", "scheduled_for")),
        (StepRun, run_state.CLAIM_STEP),
        (Run, run_state.RUN_STATE),
    )
    if found is None or found[0].status != AttemptStatus.SCHEDULED:
        return None
    attempt, step, run = found
    now = timezone.now()
    if attempt.scheduled_for > now + EARLY_TOLERANCE:
        # Delivered early (a re-dispatch by the sweeper): send it again for later.
        delay = (attempt.scheduled_for - now).total_seconds()
        send_safely(send, [Dispatch(attempt.id, int(delay * 1000))])
        return None
    run = run_state.RunState(run)
    step.action_version = run_state.action_version(step.action_version_id)
    verdict = None
    try:
        with transaction.atomic():
            tx = Transition(run, send)
            verdict = throttle.admit(tx, step, attempt)  # limits: a held attempt is due later
            if verdict.held:
                tx.flush()
                return None
            tx.now = now = verdict.now
            deadline = now + timedelta(seconds=timeout_of(run, step))
            if run.status == RunStatus.QUEUED:
                # Lock order: the run row before the attempt row, as every other transition
                # takes them; the other order deadlocks against a cancel.
                tx.run = run = run_state.lock(run.id)
                if run.status == RunStatus.QUEUED:
                    set_run(tx, RunStatus.RUNNING, started_at=now)
            set_attempt(
                tx,
                attempt.id,
                AttemptStatus.SCHEDULED,
                AttemptStatus.RUNNING,
                step=step,
                number=attempt.number,
                data={"worker": worker},
                started_at=now,
                worker=worker,
                deadline=deadline,
            )
            tx.flush(commit=True)
    except LostUpdate as lost:
        if verdict is not None:
            verdict.release()
        if (Attempt, attempt.id) not in lost.rows:
            raise
        return None  # a duplicate message: the run stays as it was
    return make_claim(attempt.id, run, step, attempt.number, deadline, started_at=now)


def complete_attempt(
    claimed, output, *, send: Send, worker="", eager=False, run_inline=None, log: str = ""
):
    """Record a successful attempt (with the `log` lines its action wrote) and start what
    waited for it.

    With `eager`, one step that can start right away is claimed for this same worker
    inside the transaction and returned, so the caller runs it without a broker round trip
    (as Temporal's eager dispatch does). A crash before it runs is caught by the sweeper
    like any running attempt of a dead worker.

    With `run_inline` too, a claimed step whose action is pure (`@action(pure=True)`) is
    run right here, inside the transaction, and recorded with the steps it starts, up to
    INLINE_MAX_STEPS steps or INLINE_MAX_S seconds (as Temporal's local activities): one
    commit for a chain of transformations. `run_inline(claimed)` returns the output, or
    NOT_RUN to leave the step to the caller. A crash loses nothing that was committed, and
    what was not is run again, which a pure action allows.
    """
    try:
        with transaction.atomic():
            tx = Transition(None, send, eager_worker=worker if eager else None)
            tx.run_id = claimed.run_id
            _finish_attempt(tx, claimed, AttemptStatus.SUCCEEDED, log, output=output)
            # The run's lock, then the attempt's compare-and-set (one statement), then
            # the run's steps: one round trip.
            steps = _lock_run(tx, claimed.run_id)
            if claimed.parent_id is None:
                _step_succeeded(tx, steps, claimed.step_run_id, output)
            else:
                _child_succeeded(tx, steps, for_each.child(claimed.step_run_id), output)
            if run_inline is not None:
                _run_pure_steps_inline(tx, steps, run_inline)
            tx.flush(commit=True)
    except LostUpdate as lost:
        if (Attempt, claimed.attempt_id) not in lost.rows:
            raise
        logger.info("late result for attempt %s ignored", claimed.attempt_id)
        return None
    return tx.claimed


def _lock_run(tx, run_id):
    """Lock the run, send what is pending, and read its steps under the lock."""
    steps = run_state.steps_query(run_id)  # (which reads the run's shape first, if not cached)
    row, found = tx.writes.send(lock=(Run, run_id, run_state.RUN_STATE), then=steps)
    if row is None:
        raise Run.DoesNotExist(f"run {run_id}")
    tx.run = run_state.RunState(row)
    return run_state.steps_from(found)


def _step_succeeded(tx, steps, step_id, output):
    step = by_id(steps, step_id)
    set_step(tx, step, StepStatus.SUCCEEDED, output=output, ended_at=tx.now)
    advance(tx, steps)


def _child_succeeded(tx, steps, child, output):
    """A for-each's item (the next ones start) or an item's compensation succeeded."""
    set_step(tx, child, StepStatus.SUCCEEDED, output=output, ended_at=tx.now)
    if child.kind == StepKind.ITEM:
        _item_ended(tx, steps, child)
    advance(tx, steps)


def _item_ended(tx, steps, item):
    parent = by_id(steps, item.parent_id)
    error = for_each.item_ended(tx, steps, parent, item)
    if error is not None:
        after_failure(tx, steps, parent, error)


def _run_pure_steps_inline(tx, steps, run_inline):
    """Run the eagerly claimed step while it is pure, recording each as its own attempt."""
    give_up_at = time.monotonic() + INLINE_MAX_S
    for _ in range(INLINE_MAX_STEPS):
        if tx.eager is None or time.monotonic() > give_up_at:
            return
        step, number, deadline, started_at, handle = tx.eager
        if not is_pure(step.action_version):
            return
        output = run_inline(make_claim(None, tx.run, step, number, deadline, started_at=started_at))
        if output is NOT_RUN:
            return
        tx.eager = None
        handle.wanted = False  # nobody runs it now: its id is not needed
        tx.now = timezone.now()
        duration_ms = (tx.now - started_at).total_seconds() * 1000
        set_attempt(
            tx,
            handle,
            AttemptStatus.RUNNING,
            AttemptStatus.SUCCEEDED,
            step=step,
            number=number,
            data={"duration_ms": round(duration_ms, 2), "inline": True},
            ended_at=tx.now,
            duration_ms=duration_ms,
            output=output,
        )
        if getattr(step, "parent_id", None) is None:
            _step_succeeded(tx, steps, step.id, output)
        else:
            _child_succeeded(tx, steps, step, output)


def eager_claim_after_lost_answer(claimed, worker):
    """The attempt a committed `complete_attempt` claimed for `worker`, or None.

    When the connection drops after COMMIT but before its answer, the retried call finds
    the attempt already succeeded; the step it claimed eagerly is still this worker's to
    run (the sweeper would only see a live worker's running attempt and wait for its
    deadline). The eager claim started at the instant the attempt ended, in the same
    transaction, which identifies it.
    """
    ended_at = (
        Attempt.objects.filter(id=claimed.attempt_id, status=AttemptStatus.SUCCEEDED)
        .values_list("ended_at", flat=True)
        .first()
    )
    while ended_at is not None:
        # Steps run inline in that transaction ended there too: follow them to the claim.
        attempt = (
            Attempt.objects.select_related("step_run__action_version__action", "run")
            .filter(run_id=claimed.run_id, worker=worker, started_at=ended_at)
            .first()
        )
        if attempt is None:
            return None
        if attempt.status == AttemptStatus.RUNNING:
            return claim_of(attempt)
        ended_at = attempt.ended_at if attempt.status == AttemptStatus.SUCCEEDED else None
    return None


def fail_attempt(claimed, error, *, send: Send, retryable=True, retry_after=None, log: str = ""):
    """Record a failed attempt (with the `log` lines its action wrote), then retry it with
    backoff or fail the step for good.

    1. Decide (core/retry.py `decide`): retry if the error is retryable, attempts remain
       and the run still wants this step; the delay is the policy's backoff, or the
       action's `retry_after`.
    2. Retry: a new scheduled attempt, sent as a delayed message after the commit.
    3. Otherwise the step fails: an action step starts the run's compensation; a failed
       compensation flags the run for review and the remaining ones still run.
    """
    try:
        with transaction.atomic():
            run = run_state.lock(claimed.run_id)
            tx = Transition(run, send)
            steps = run_state.steps_of(run)
            if claimed.parent_id is None:
                step = by_id(steps, claimed.step_run_id)
            else:
                step = for_each.child(claimed.step_run_id)
            decision = _retry_decision(tx, steps, step, claimed, retryable, retry_after)
            _finish_attempt(
                tx, claimed, AttemptStatus.FAILED, log, error=error, retry_decision=decision
            )
            # Sent now: a late result must change nothing, not collide with the retry
            # someone else already scheduled.
            tx.send_writes()
            if decision["retry"]:
                schedule_attempt(tx, step, claimed.number + 1, delay_s=decision["delay_s"])
            else:
                _fail_step(tx, steps, step, error)
            advance(tx, steps)
            tx.flush(commit=True)
    except LostUpdate as lost:
        if (Attempt, claimed.attempt_id) not in lost.rows:
            raise
        logger.info("late result for attempt %s ignored", claimed.attempt_id)
        return None
    return decision


def expire_attempt(attempt_id: int, reason: str, *, send: Send):
    """Fail a running attempt whose worker died or whose deadline passed (sweeper)."""
    attempt = (
        Attempt.objects.select_related("step_run__action_version__action", "run")
        .filter(id=attempt_id, status=AttemptStatus.RUNNING)
        .first()
    )
    if attempt is None:
        return None
    claimed = claim_of(attempt)
    error = {"type": "AttemptTimeout", "code": "timeout", "message": reason, "retryable": True}
    return fail_attempt(claimed, error, send=send, retryable=True)


def _finish_attempt(tx, claimed, status, log, **fields):
    """Compare-and-set running -> succeeded/failed, with its event (sent with the rest)."""
    if log:
        fields["log"] = log  # only when there is one: the usual write keeps its columns
    duration_ms = (tx.now - claimed.started_at).total_seconds() * 1000
    data = {"duration_ms": round(duration_ms, 2)}
    message = ""
    if status == AttemptStatus.FAILED:
        data["error"] = {k: fields["error"].get(k) for k in ("type", "message")}
        data["retry_decision"] = fields.get("retry_decision")
        message = retry.describe(fields.get("retry_decision"))
    set_attempt(
        tx,
        claimed.attempt_id,
        AttemptStatus.RUNNING,
        status,
        step=claimed,
        number=claimed.number,
        data=data,
        message=message,
        ended_at=tx.now,
        duration_ms=duration_ms,
        **fields,
    )


def _retry_decision(tx, steps, step, claimed, retryable, retry_after):
    run = tx.run
    spec = spec_of(run, step)
    policy = retry.RetryPolicy.from_dict(step.action_version.retry_policy, spec.get("retry"))
    wanted = run.status in (RunStatus.QUEUED, RunStatus.RUNNING) or (
        step.kind == StepKind.COMPENSATION and run.status == RunStatus.COMPENSATING
    )
    if step.kind == StepKind.ITEM:  # an item of a step that already failed fast: no retry
        wanted = wanted and by_id(steps, step.parent_id).status == StepStatus.RUNNING
    return retry.decide(
        policy,
        claimed.number,
        retryable=retryable,
        wanted=wanted,
        retry_after=retry_after,
        max_retry_after_s=MAX_RETRY_AFTER_S,
        elapsed_s=_since_first_attempt(tx, claimed) if policy.budget_s else 0.0,
    )


def _since_first_attempt(tx, claimed):
    """Seconds since the step's first attempt started: what a retry budget counts."""
    first = claimed.started_at
    if claimed.number > 1:
        found = fastsql.rows(
            Attempt, ("started_at",), {"step_run_id": claimed.step_run_id, "number": 1}
        )
        first = found[0].started_at if found and found[0].started_at else first
    return (tx.now - first).total_seconds()


# ---------------------------------------------------------------------------
# Runs: reconcile (cancel, time out: runner/run_ending.py; waits resumed:
# runner/wait_transitions.py; reruns: runner/reruns.py)


def reconcile(run_id: int, *, send: Send) -> None:
    """Re-evaluate an active run (sweeper safety net); a no-op when nothing is due."""
    with transaction.atomic():
        run = run_state.lock(run_id)
        if run.status not in ACTIVE_RUN:
            return
        tx = Transition(run, send)
        steps = run_state.steps_of(run)
        for step in steps:  # a for-each whose next items were never started
            if step.status == StepStatus.RUNNING and for_each.is_for_each(run.step_spec(step.key)):
                error = for_each.fill(tx, steps, step)
                if error is not None:
                    after_failure(tx, steps, step, error)
        advance(tx, steps)
        tx.flush()


# ---------------------------------------------------------------------------
# Internals: what happens next


def advance(tx: Transition, steps: list) -> None:
    """Start, skip or decide every step whose predecessors finished (runner/decisions.py);
    finish the run when nothing is left to do, or go on compensating."""
    run = tx.run
    subflows.settle(tx, steps, after_failure)
    _advance_steps(tx, steps)
    if run.status == RunStatus.COMPENSATING:
        for child_id in subflows.active_children(run, steps):
            subflow_transitions.cancel_child(tx, child_id, advance)
        subflows.settle(tx, steps, after_failure)  # a child with nothing to undo ended now
        compensation.compensate_next(tx, steps)
    if run.status in FINISHED_RUN and run.parent_run_id:
        subflow_transitions.wake_parent(tx, run.parent_run_id, reconcile)


def _advance_steps(tx, steps):
    """Start, skip or decide the steps that may go; succeed the run when all are done."""
    run = tx.run
    actions = [s for s in steps if s.kind == StepKind.ACTION]
    if run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        by_key = {s.key: s for s in actions}
        progress = True
        while progress and run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
            # A skip or a switch decided here can settle steps listed before it: again.
            progress = False
            for step in actions:
                if step.status != StepStatus.PENDING:
                    continue
                if _decide(tx, steps, step, by_key):
                    progress = True
                if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
                    break
        finished = all(s.status in decisions.FINISHED for s in actions)
        if finished and run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
            set_run(tx, RunStatus.SUCCEEDED, output=_run_output(run, actions), ended_at=tx.now)
            if run.rerun_of_id is not None and run.resolve_original:
                resolve_original(tx, run.rerun_of_id)


def _decide(tx, steps, step, by_key):
    """Skip, decide (a switch) or start one pending step; False when it must still wait."""
    run = tx.run
    verdict = decisions.gate(run, step, by_key)
    if verdict.action == "wait":
        return False
    spec = run.step_spec(step.key)
    if verdict.action == "go" and (spec.get("when") or decisions.is_switch(spec)):
        scope = decisions.scope(run, steps)
        verdict = decisions.condition(spec, scope)
    if verdict.action == "skip":
        set_step(tx, step, StepStatus.SKIPPED, ended_at=tx.now, message=verdict.reason)
    elif (subflows.is_subflow(spec) or waits.is_wait(spec)) and not wait_steps.admitted(tx, step):
        return False
    elif decisions.is_switch(spec):
        output, why = decisions.choose_case(spec, scope)
        set_step(tx, step, StepStatus.RUNNING, started_at=tx.now)
        set_step(tx, step, StepStatus.SUCCEEDED, output=output, ended_at=tx.now, message=why)
    elif subflows.is_subflow(spec):
        error = subflow_transitions.start_child(tx, steps, step, spec, start_run)
        if error is not None:
            after_failure(tx, steps, step, error)
    elif waits.is_wait(spec):
        error = wait_steps.begin(tx, steps, step, spec)
        if error is not None:
            after_failure(tx, steps, step, error)
    else:
        start = for_each.start if for_each.is_for_each(spec) else start_step
        error = start(tx, steps, step)
        if error is not None:
            after_failure(tx, steps, step, error)
    return True


def _run_output(run, actions):
    """The output of the last step; with several final branches, one entry per branch that
    succeeded (a skipped branch has nothing to say)."""
    upstream = {key for spec in run.definition["steps"] for key in spec["after"]}
    sinks = [s for s in actions if s.key not in upstream]
    if len(sinks) == 1:
        return sinks[0].output
    return {s.key: s.output for s in sinks if s.status == StepStatus.SUCCEEDED}


def _fail_step(tx, steps, step, error):
    set_step(tx, step, StepStatus.FAILED, error=error, ended_at=tx.now)
    if step.kind == StepKind.ITEM:
        _item_ended(tx, steps, step)  # the for-each step decides (runner/for_each.py)
    else:
        after_failure(tx, steps, step, error)


def after_failure(tx: Transition, steps: list, step, error: dict) -> None:
    """A failed step's `on_error` route that matches handles it: no compensation, the
    route's steps run next (runner/decisions.py). Otherwise the run compensates."""
    run = tx.run
    route = None
    if step.kind == StepKind.ACTION and run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        route = decisions.route_for(run.step_spec(step.key), error)
    if route is not None:
        mark_handled(tx, step, route)
    else:
        compensation.after_step_failed(tx, steps, step, error)
