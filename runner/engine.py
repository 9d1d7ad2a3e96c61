"""The engine: the only code that changes the status of a run, a step or an attempt.

Every entry point is one database transaction that
1. locks the run row (so two workers finishing parallel steps cannot both miss, or both
   start, the step that waits for them),
2. moves rows forward with compare-and-set updates, so a duplicate message or a late
   result changes nothing,
3. appends one RunEvent per transition, and
4. sends Dramatiq messages (attempt ids only) after the commit, never before.

The bookkeeping of one transaction (its writes, sent as one statement; its events; its
messages) is runner/transition.py; what it reads of a run, runner/run_state.py.

Actors only claim an attempt, call the action, and hand the outcome back here.
"""

import logging
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core import references, schemas
from core.actions.registry import is_pure
from core.errors import InvalidInput, InvalidTransition
from core.retry import RetryPolicy
from runner import fastsql, run_gate, run_state, throttle
from runner.models import Attempt, Run, RunEvent, StepRun
from runner.states import (
    ACTIVE_RUN,
    AttemptStatus,
    RunStatus,
    StepKind,
    StepStatus,
    Trigger,
)
from runner.transition import (
    Dispatch,
    Transition,
    by_id,
    claim_of,
    event_row,
    make_claim,
    send,
    set_run,
    set_step,
)

log = logging.getLogger(__name__)

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
    trigger=Trigger.MANUAL,
    workflow=None,
    workflow_version=None,
    action=None,
    user=None,
    rerun_of=None,
    rerun_from="",
    reuse=None,
    schedule=None,
    scheduled_for=None,
):
    """Create a run of a validated definition and start the steps that wait for nothing.

    1. Check the run input against the definition's `input_schema` (InvalidInput).
    2. Pin every action ref to its ActionVersion.
    3. In one transaction: the run, one StepRun per step (copies for `reuse`d steps),
       the first attempts, their events; messages go out after the commit.
    """
    if not isinstance(input, dict):
        raise InvalidInput({"input": ["must be a JSON object"]})
    if definition.get("input_schema"):
        schemas.check(definition["input_schema"], input)
    versions = run_state.pin_action_versions(definition, workspace)
    reuse = reuse or {}
    # No savepoint when called inside a caller's transaction (webhook, idempotency key):
    # two round trips saved, and no caller goes on after an error in it.
    with transaction.atomic(savepoint=False):
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
            schedule=schedule,
            scheduled_for=scheduled_for,
            concurrency_key=run_gate.key_of(definition, input),
        )
        fastsql.create_all([run])
        steps = []
        for position, spec in enumerate(definition["steps"]):
            step = StepRun(
                run=run,
                key=spec["key"],
                position=position,
                action_version=versions[spec["action"]],
            )
            original = reuse.get(spec["key"])
            if original is not None:
                step.status = StepStatus.SUCCEEDED
                step.input, step.output = original.input, original.output
                step.reused_from = original
                step.started_at, step.ended_at = original.started_at, original.ended_at
            steps.append(step)
        fastsql.create_all(steps)
        tx = Transition(run)
        tx.event("run.created", to_status=RunStatus.QUEUED, data={"trigger": trigger})
        for step in steps:
            if step.reused_from_id:
                tx.event(
                    "step.reused",
                    step=step,
                    to_status=StepStatus.SUCCEEDED,
                    message=f"output reused from run {rerun_of.id}" if rerun_of else "",
                )
        _advance(tx, steps)
        tx.flush()
    return run


# ---------------------------------------------------------------------------
# Attempts: claim, succeed, fail


def claim_attempt(attempt_id, worker):
    """Take a scheduled attempt for this worker; None when it is not (or no longer) ours."""
    found = fastsql.joined(
        [
            (Attempt, "a", ("id", "number", "status", "scheduled_for")),
            (StepRun, "s", run_state.CLAIM_STEP),
            (Run, "r", run_state.RUN_STATE),
        ],
        "FROM runner_attempt a JOIN runner_steprun s ON s.id = a.step_run_id "
        "JOIN runner_run r ON r.id = a.run_id WHERE a.id = %s",
        [attempt_id],
    )
    if found is None or found[0].status != AttemptStatus.SCHEDULED:
        return None
    attempt, step, run = found
    now = timezone.now()
    if attempt.scheduled_for > now + EARLY_TOLERANCE:
        # Delivered early (a re-dispatch by the sweeper): send it again for later.
        delay = (attempt.scheduled_for - now).total_seconds()
        send([Dispatch(attempt.id, int(delay * 1000))])
        return None
    run = run_state.RunState(run)
    step.action_version = run_state.action_version(step.action_version_id)
    with transaction.atomic():
        verdict = throttle.admit(run, step, attempt)  # limits: held attempts wait, due later
        if verdict.held:
            return None
        now = verdict.now
        deadline = now + timedelta(seconds=_timeout_of(run, step))
        # Lock order: the run row before the attempt row, as every other transition takes
        # them (under the run lock); the other order deadlocks against a cancel.
        events = [_attempt_event(run, step, attempt.number, worker, now)]
        if run.status == RunStatus.QUEUED:
            started = fastsql.update_if(
                Run, run.id, RunStatus.QUEUED, status=RunStatus.RUNNING, started_at=now
            )
            if started:
                events.insert(0, _run_event(run, RunStatus.QUEUED, RunStatus.RUNNING, now))
        claimed = fastsql.update_if(
            Attempt,
            attempt.id,
            AttemptStatus.SCHEDULED,
            status=AttemptStatus.RUNNING,
            started_at=now,
            worker=worker,
            deadline=deadline,
        )
        if claimed != 1:
            transaction.set_rollback(True)  # a duplicate message: the run stays as it was
            verdict.release()
            return None
        fastsql.insert(RunEvent, events)
    return make_claim(attempt.id, run, step, attempt.number, deadline, started_at=now)


def complete_attempt(claimed, output, *, worker="", eager=False, run_inline=None):
    """Record a successful attempt and start what waited for it.

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
    with transaction.atomic():
        tx = Transition(None, eager_worker=worker if eager else None)
        if not _lock_run_and_finish(tx, claimed, AttemptStatus.SUCCEEDED, output=output):
            return None
        steps = run_state.steps_of(tx.run)
        _step_succeeded(tx, steps, claimed.step_run_id, output)
        if run_inline is not None:
            _run_pure_steps_inline(tx, steps, run_inline)
        tx.flush()
    return tx.claimed


def _step_succeeded(tx, steps, step_id, output):
    step = by_id(steps, step_id)
    set_step(tx, step, StepStatus.SUCCEEDED, output=output, ended_at=tx.now)
    _advance(tx, steps)


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
        tx.now = timezone.now()
        duration_ms = (tx.now - started_at).total_seconds() * 1000
        row = tx.writes.no_id_needed(handle)
        row.update(
            status=AttemptStatus.SUCCEEDED, ended_at=tx.now, duration_ms=duration_ms, output=output
        )
        tx.event(
            "attempt.succeeded",
            step=step,
            attempt=number,
            from_status=AttemptStatus.RUNNING,
            to_status=AttemptStatus.SUCCEEDED,
            data={"duration_ms": round(duration_ms, 2), "inline": True},
        )
        _step_succeeded(tx, steps, step.id, output)


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


def fail_attempt(claimed, error, *, retryable=True, retry_after=None):
    """Record a failed attempt, then retry it with backoff or fail the step for good.

    1. Decide: retry if the error is retryable, attempts remain and the run still wants
       this step; the delay is the policy's backoff, or the action's `retry_after`.
    2. Retry: a new scheduled attempt, sent as a delayed message after the commit.
    3. Otherwise the step fails: an action step starts the run's compensation; a failed
       compensation flags the run for review and the remaining ones still run.
    """
    with transaction.atomic():
        run = run_state.lock(claimed.run_id)
        tx = Transition(run)
        steps = run_state.steps_of(run)
        step = next(s for s in steps if s.key == claimed.step_key and s.kind == claimed.step_kind)
        decision = _retry_decision(run, step, claimed.number, retryable, retry_after)
        done = _finish_attempt(
            tx, claimed, AttemptStatus.FAILED, error=error, retry_decision=decision
        )
        if not done:
            return None
        if decision["retry"]:
            _schedule_attempt(tx, step, claimed.number + 1, delay_s=decision["delay_s"])
        else:
            _fail_step(tx, steps, step, error)
        _advance(tx, steps)
        tx.flush()
    return decision


def expire_attempt(attempt_id, reason):
    """Fail a running attempt whose worker died or whose deadline passed (sweeper)."""
    attempt = (
        Attempt.objects.select_related("step_run__action_version__action", "run")
        .filter(id=attempt_id, status=AttemptStatus.RUNNING)
        .first()
    )
    if attempt is None:
        return None
    claimed = claim_of(attempt)
    error = {"type": "AttemptTimeout", "message": reason, "retryable": True}
    return fail_attempt(claimed, error, retryable=True)


# ---------------------------------------------------------------------------
# Runs: cancel, reconcile (reruns: runner/reruns.py)


def cancel_run(run_id, user=None, by=""):
    """Stop new work, let running attempts end, then compensate; the run ends cancelled.
    `by` names who asked when it was no person (a schedule)."""
    with transaction.atomic():
        run = run_state.lock(run_id)
        if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            raise InvalidTransition(f"a {run.status} run cannot be cancelled")
        tx = Transition(run)
        steps = run_state.steps_of(run)
        by = by or getattr(user, "username", "") or "the API"
        _begin_compensation(tx, steps, "cancelled", {"message": f"cancelled by {by}"})
        _advance(tx, steps)
        tx.flush()


def reconcile(run_id):
    """Re-evaluate an active run (sweeper safety net); a no-op when nothing is due."""
    with transaction.atomic():
        run = run_state.lock(run_id)
        if run.status not in ACTIVE_RUN:
            return
        tx = Transition(run)
        _advance(tx, run_state.steps_of(run))
        tx.flush()


def _finish_attempt(tx, claimed, status, **fields):
    """Compare-and-set running -> succeeded/failed; None when the attempt is no longer ours."""
    duration_ms = (tx.now - claimed.started_at).total_seconds() * 1000
    updated = fastsql.update_if(
        Attempt,
        claimed.attempt_id,
        AttemptStatus.RUNNING,
        status=status,
        ended_at=tx.now,
        duration_ms=duration_ms,
        **fields,
    )
    return _attempt_finished(tx, claimed, status, updated, duration_ms, fields)


def _lock_run_and_finish(tx, claimed, status, **fields):
    """`run_state.lock`, then `_finish_attempt` under that lock, in one statement; sets tx.run."""
    duration_ms = (tx.now - claimed.started_at).total_seconds() * 1000
    run, updated = fastsql.lock_then_update(
        (Run, claimed.run_id, run_state.RUN_STATE),
        (Attempt, claimed.attempt_id, AttemptStatus.RUNNING),
        status=status,
        ended_at=tx.now,
        duration_ms=duration_ms,
        **fields,
    )
    if run is None:
        raise Run.DoesNotExist(f"run {claimed.run_id}")
    tx.run = run_state.RunState(run)
    return _attempt_finished(tx, claimed, status, updated, duration_ms, fields)


def _attempt_finished(tx, claimed, status, updated, duration_ms, fields):
    if updated != 1:
        log.info("late result for attempt %s ignored", claimed.attempt_id)
        return None
    data = {"duration_ms": round(duration_ms, 2)}
    message = ""
    if status == AttemptStatus.FAILED:
        data["error"] = {k: fields["error"].get(k) for k in ("type", "message")}
        data["retry_decision"] = fields.get("retry_decision")
        message = _describe_decision(fields.get("retry_decision"))
    tx.event(
        f"attempt.{status}",
        step_key=claimed.step_key,
        step_kind=claimed.step_kind,
        attempt=claimed.number,
        from_status=AttemptStatus.RUNNING,
        to_status=status,
        message=message,
        data=data,
    )
    return claimed


def _describe_decision(decision):
    if not decision:
        return ""
    if decision["retry"]:
        return (
            f"retry {decision['next_attempt']} of {decision['max_attempts']} "
            f"in {decision['delay_s']:.1f} s"
        )
    return decision["reason"]


def _retry_decision(run, step, number, retryable, retry_after):
    spec = run.step_spec(step.key)
    if step.kind == StepKind.COMPENSATION:
        spec = spec.get("compensate") or {}
    policy = RetryPolicy.from_dict(step.action_version.retry_policy, spec.get("retry"))
    wanted = run.status in (RunStatus.QUEUED, RunStatus.RUNNING) or (
        step.kind == StepKind.COMPENSATION and run.status == RunStatus.COMPENSATING
    )
    if not wanted:
        return {"retry": False, "reason": "not retried: the run is stopping"}
    if not retryable:
        return {"retry": False, "reason": "non-retryable error"}
    if number >= policy.max_attempts:
        return {
            "retry": False,
            "reason": f"out of attempts ({number} of {policy.max_attempts})",
        }
    if retry_after is not None:
        delay = min(float(retry_after), MAX_RETRY_AFTER_S)
    else:
        delay = policy.delay_before(number + 1)
    return {
        "retry": True,
        "delay_s": round(delay, 3),
        "next_attempt": number + 1,
        "max_attempts": policy.max_attempts,
        "retry_after": retry_after is not None,
    }


def _timeout_of(run, step):
    spec = run.step_spec(step.key)
    if step.kind == StepKind.COMPENSATION:
        spec = spec.get("compensate") or {}
    return float(spec.get("timeout_s") or step.action_version.timeout_s)


def _attempt_event(run, step, number, worker, at):
    return event_row(
        run,
        "attempt.started",
        at,
        step_key=step.key,
        step_kind=step.kind,
        attempt=number,
        from_status=AttemptStatus.SCHEDULED,
        to_status=AttemptStatus.RUNNING,
        data={"worker": worker},
    )


def _run_event(run, old, new, at):
    return event_row(run, f"run.{new}", at, from_status=old, to_status=new)


# ---------------------------------------------------------------------------
# Internals: what happens next


def _advance(tx, steps):
    """Start every step whose predecessors succeeded; finish or compensate the run."""
    run = tx.run
    actions = [s for s in steps if s.kind == StepKind.ACTION]
    if run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        by_key = {s.key: s for s in actions}
        for step in actions:
            if step.status != StepStatus.PENDING:
                continue
            after = run.step_spec(step.key)["after"]
            if all(by_key[key].status == StepStatus.SUCCEEDED for key in after):
                _start_step(tx, steps, step)
                if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
                    break
        if run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
            if all(s.status == StepStatus.SUCCEEDED for s in actions):
                set_run(tx, RunStatus.SUCCEEDED, output=_run_output(run, actions), ended_at=tx.now)
            return
    if run.status == RunStatus.COMPENSATING:
        _compensate_next(tx, steps)


def _run_output(run, actions):
    """The output of the last step; with several final branches, one entry per branch."""
    upstream = {key for spec in run.definition["steps"] for key in spec["after"]}
    sinks = [s for s in actions if s.key not in upstream]
    if len(sinks) == 1:
        return sinks[0].output
    return {s.key: s.output for s in sinks}


def _start_step(tx, steps, step):
    """Render the step's input, check it against the action's schema, schedule attempt 1."""
    run = tx.run
    spec = run.step_spec(step.key)
    template = spec.get("input", {})
    if step.kind == StepKind.COMPENSATION:
        template = spec["compensate"].get("input", {})
    scope = {
        "input": run.input,
        "run": {
            "id": run.id,
            "scheduled_for": run.scheduled_for.isoformat() if run.scheduled_for else None,
        },
        "steps": {
            s.key: {"output": s.output}
            for s in steps
            if s.kind == StepKind.ACTION and s.status == StepStatus.SUCCEEDED
        },
    }
    try:
        rendered = references.render(template, scope, keep=("secrets",))
        if not isinstance(rendered, dict):
            raise InvalidInput({"input": ["must be a JSON object"]})
        checkable = {k: v for k, v in rendered.items() if not _has_secret(v)}
        schema = step.action_version.input_schema or {}
        if any(_has_secret(v) for v in rendered.values()):
            schema = {
                **schema,
                "required": [r for r in schema.get("required", []) if r in checkable],
            }
        schemas.check(schema, checkable)
    except references.MissingReference as missing:
        error = {
            "type": "InvalidInput",
            "message": f"the input refers to {missing.path}, which is missing",
            "retryable": False,
        }
        set_step(tx, step, StepStatus.RUNNING, started_at=tx.now)
        set_step(tx, step, StepStatus.FAILED, error=error, ended_at=tx.now)
        _after_step_failed(tx, steps, step, error)
        return
    except InvalidInput as invalid:
        error = {
            "type": "InvalidInput",
            "message": "the input does not match the action's schema",
            "fields": invalid.fields,
            "retryable": False,
        }
        set_step(tx, step, StepStatus.RUNNING, started_at=tx.now, input=rendered)
        set_step(tx, step, StepStatus.FAILED, error=error, ended_at=tx.now)
        _after_step_failed(tx, steps, step, error)
        return
    set_step(
        tx,
        step,
        StepStatus.RUNNING,
        started_at=tx.now,
        input=rendered,
        attempt_count=1,
        secret_slots=references.secret_slots(template, scope) or None,
    )
    _schedule_attempt(tx, step, 1)


def _has_secret(value):
    return any(path.startswith("secrets.") for _, path in references.find(value))


def _schedule_attempt(tx, step, number, delay_s=0.0):
    run = tx.run
    due = tx.now + timedelta(seconds=delay_s)
    eager = tx.eager_worker and tx.eager is None and delay_s == 0
    eager = eager and not throttle.limits_step(run, step)
    row = {
        "run_id": run.id,
        "step_run_id": step.id,
        "number": number,
        "scheduled_for": due,
        "status": AttemptStatus.SCHEDULED,
        "started_at": None,
        "deadline": None,
        "worker": "",
    }
    if eager:
        deadline = tx.now + timedelta(seconds=_timeout_of(run, step))
        row.update(status=AttemptStatus.RUNNING, started_at=tx.now, worker=tx.eager_worker)
        row["deadline"] = deadline
    handle = tx.writes.insert(Attempt, row, wants_id=True)
    if step.attempt_count != number:  # the first one was counted as the step started
        tx.writes.update(StepRun, step.id, step.status, attempt_count=number)
        step.attempt_count = number
    tx.event(
        "attempt.scheduled",
        step=step,
        attempt=number,
        to_status=AttemptStatus.SCHEDULED,
        data={"delay_s": round(delay_s, 3)} if delay_s else None,
    )
    if eager:
        tx.event(
            "attempt.started",
            step=step,
            attempt=number,
            from_status=AttemptStatus.SCHEDULED,
            to_status=AttemptStatus.RUNNING,
            data={"worker": tx.eager_worker, "eager": True},
        )
        if run.status == RunStatus.QUEUED:
            set_run(tx, RunStatus.RUNNING, started_at=tx.now)
        tx.eager = (step, number, row["deadline"], tx.now, handle)
    else:
        tx.to_send.append((handle, int(delay_s * 1000)))


def _fail_step(tx, steps, step, error):
    set_step(tx, step, StepStatus.FAILED, error=error, ended_at=tx.now)
    _after_step_failed(tx, steps, step, error)


def _after_step_failed(tx, steps, step, error):
    run = tx.run
    if step.kind == StepKind.COMPENSATION:
        if not run.needs_review:
            tx.writes.update(Run, run.id, None, needs_review=True)
            run.needs_review = True
            tx.event("run.flagged", step=step, message="a compensation failed")
        return
    if run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        summary = {"step": step.key, "message": error.get("message", ""), "type": error.get("type")}
        if error.get("fields"):
            summary["fields"] = error["fields"]
        _begin_compensation(tx, steps, "failed", summary)


def _begin_compensation(tx, steps, ending, error):
    """Nothing new starts: pending steps are skipped, waiting retries cancelled."""
    run = tx.run
    set_run(tx, RunStatus.COMPENSATING, ending=ending, error=error)
    tx.send_writes()  # the attempts this transaction scheduled are among those to cancel
    waiting = list(
        Attempt.objects.filter(run_id=run.id, status=AttemptStatus.SCHEDULED).values_list(
            "id", "step_run_id", "number"
        )
    )
    cancelled_steps = set()
    for attempt_id, step_id, number in waiting:
        cancelled = Attempt.objects.filter(id=attempt_id, status=AttemptStatus.SCHEDULED).update(
            status=AttemptStatus.CANCELLED, ended_at=tx.now
        )
        if cancelled:  # 0 means a worker claimed it first: it is running, and we wait for it
            step = by_id(steps, step_id)
            cancelled_steps.add(step_id)
            tx.event(
                "attempt.cancelled",
                step=step,
                attempt=number,
                from_status=AttemptStatus.SCHEDULED,
                to_status=AttemptStatus.CANCELLED,
            )
    for step in steps:
        if step.kind != StepKind.ACTION:
            continue
        if step.status == StepStatus.PENDING or step.id in cancelled_steps:
            set_step(tx, step, StepStatus.SKIPPED, ended_at=tx.now)


def _compensate_next(tx, steps):
    """Once nothing runs, undo succeeded steps newest first, one at a time; then finish."""
    run = tx.run
    if any(s.status == StepStatus.RUNNING for s in steps):
        return  # in-flight attempts end first; a step that succeeds now gets undone too
    compensated = {s.compensates_id for s in steps if s.kind == StepKind.COMPENSATION}
    todo = [
        s
        for s in steps
        if s.kind == StepKind.ACTION
        and s.status == StepStatus.SUCCEEDED
        and s.id not in compensated
        and run.step_spec(s.key).get("compensate")
    ]
    if todo:
        todo.sort(key=lambda s: (s.ended_at or tx.now, s.position), reverse=True)
        original = todo[0]
        ref = run.step_spec(original.key)["compensate"]["action"]
        step = StepRun.objects.create(
            run_id=run.id,
            key=original.key,
            kind=StepKind.COMPENSATION,
            position=original.position,
            action_version_id=run.action_versions[ref],
            compensates_id=original.id,
        )
        steps.append(step)
        _start_step(tx, steps, step)
        if step.status == StepStatus.FAILED:
            _compensate_next(tx, steps)  # its input was unusable: flagged, go on
        return
    ran = [s for s in steps if s.kind == StepKind.COMPENSATION]
    if run.ending == "cancelled":
        final = RunStatus.CANCELLED
    elif ran and not any(s.status == StepStatus.FAILED for s in ran):
        final = RunStatus.COMPENSATED
    else:
        final = RunStatus.FAILED
    set_run(tx, final, ended_at=tx.now)
