"""Starting a step inside a transition: render its input, check it, schedule attempt 1.

Shared by the forward path (runner/engine.py) and compensation (runner/compensation.py);
a step whose input cannot be used fails here, and the caller decides what follows.
"""

from datetime import timedelta

from core import references, schemas
from core.errors import InvalidInput
from runner import decisions, throttle
from runner.states import AttemptStatus, RunStatus, StepKind, StepStatus
from runner.transition import add_attempt, count_attempt, set_attempt, set_run, set_step


def spec_of(run, step):
    """The definition's spec of a step, or of its compensation."""
    spec = run.step_spec(step.key)
    if step.kind == StepKind.COMPENSATION:
        spec = spec.get("compensate") or {}
    return spec


def timeout_of(run, step):
    return float(spec_of(run, step).get("timeout_s") or step.action_version.timeout_s)


def start_step(tx, steps, step, extra=None):
    """Move a pending step to running with its rendered input and schedule attempt 1.
    Returns the error when its input is unusable (the step is then failed), else None.
    `extra` adds references of its own (a for-each item's `item` and `item_index`)."""
    run = tx.run
    template = spec_of(run, step).get("input", {})
    scope = decisions.scope(run, steps)
    if extra:
        scope.update(extra)
    rendered = None
    try:
        rendered = references.render(template, scope, keep=("secrets",))
        if not isinstance(rendered, dict):
            raise InvalidInput({"input": ["must be a JSON object"]})
        _check_input(step, rendered)
    except references.MissingReference as missing:
        error = {
            "type": "InvalidInput",
            "message": f"the input refers to {missing.path}, which is missing",
            "retryable": False,
        }
        set_step(tx, step, StepStatus.RUNNING, started_at=tx.now)
        set_step(tx, step, StepStatus.FAILED, error=error, ended_at=tx.now)
        return error
    except InvalidInput as invalid:
        error = {
            "type": "InvalidInput",
            "message": "the input does not match the action's schema",
            "fields": invalid.fields,
            "retryable": False,
        }
        set_step(tx, step, StepStatus.RUNNING, started_at=tx.now, input=rendered)
        set_step(tx, step, StepStatus.FAILED, error=error, ended_at=tx.now)
        return error
    set_step(
        tx,
        step,
        StepStatus.RUNNING,
        started_at=tx.now,
        input=rendered,
        attempt_count=1,
        secret_slots=references.secret_slots(template, scope) or None,
    )
    schedule_attempt(tx, step, 1)
    return None


def _check_input(step, rendered):
    checkable = {k: v for k, v in rendered.items() if not _has_secret(v)}
    schema = step.action_version.input_schema or {}
    if any(_has_secret(v) for v in rendered.values()):
        schema = {**schema, "required": [r for r in schema.get("required", []) if r in checkable]}
    schemas.check(schema, checkable)


def _has_secret(value):
    return any(path.startswith("secrets.") for _, path in references.find(value))


def schedule_attempt(tx, step, number, delay_s=0.0):
    """A new scheduled attempt, sent after the commit; or, when this transition may hand
    one step to its worker (`tx.eager_worker`), claimed for it right away."""
    run = tx.run
    eager = tx.eager_worker and tx.eager is None and delay_s == 0
    eager = eager and not throttle.limits_step(tx.run, step)  # limited steps go by the broker
    handle = add_attempt(tx, step, number, tx.now + timedelta(seconds=delay_s))
    count_attempt(tx, step, number)
    if not eager:
        tx.to_send.append((handle, int(delay_s * 1000)))
        return
    deadline = tx.now + timedelta(seconds=timeout_of(run, step))
    set_attempt(
        tx,
        handle,
        AttemptStatus.SCHEDULED,
        AttemptStatus.RUNNING,
        step=step,
        number=number,
        data={"worker": tx.eager_worker, "eager": True},
        started_at=tx.now,
        worker=tx.eager_worker,
        deadline=deadline,
    )
    if run.status == RunStatus.QUEUED:
        set_run(tx, RunStatus.RUNNING, started_at=tx.now)
    tx.eager = (step, number, deadline, tx.now, handle)
