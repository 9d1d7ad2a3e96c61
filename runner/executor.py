"""Run claimed attempts: call the action with its context and hand the outcome to the engine.

Kept apart from runner/tasks.py so that it never imports Dramatiq: the actor is a thin
shell around `execute_attempt`.
"""

import logging
import time
import traceback

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection

from core import logs, references, schemas
from core.actions.base import ActionContext
from core.actions.execute import execute
from core.errors import ActionError, AttemptTimeout
from core.masking import mask
from core.models import Secret
from runner import attempt_log, engine, throttle

log = logging.getLogger(__name__)

# How many steps one worker thread runs back to back before it hands the next one
# to the broker again, so that one long workflow cannot keep a thread for ever.
MAX_EAGER_CHAIN = 100
REPORT_RETRIES = 5
# How long a worker process reuses a workspace's secret values to mask what an attempt
# writes (a step that uses a secret always reads them fresh).
MASK_CACHE_S = 2.0

_to_mask = {}  # workspace id -> (expires at, secret values)


def execute_attempt(attempt_id, worker, *, send):
    """Claim the attempt, run it, report; then run any step the engine handed back eagerly.
    `send` takes the attempts the engine schedules (the broker's, from runner/tasks.py)."""
    with logs.context(attempt_id=attempt_id, worker=worker):
        claimed = engine.claim_attempt(attempt_id, worker, send=send)
    chain = 0
    while claimed is not None:
        chain += 1
        # Every line logged while it runs (engine, action, libraries) names the attempt.
        with logs.context(
            run_id=claimed.run_id,
            step_key=claimed.step_key,
            attempt=claimed.number,
            attempt_id=claimed.attempt_id,
            worker=worker,
        ):
            claimed = run_claimed(claimed, worker, eager=chain < MAX_EAGER_CHAIN, send=send)


def run_claimed(claimed, worker, eager=False, *, send):
    extra = {
        "run_id": claimed.run_id,
        "step_key": claimed.step_key,
        "attempt": claimed.number,
        "worker": worker,
    }
    secrets = _secrets_for(claimed)
    try:
        with logs.hiding(_values_to_mask(claimed.workspace_id, secrets)):
            return _execute_and_report(claimed, worker, eager, extra, secrets, send)
    finally:
        throttle.finished(claimed.attempt_id)  # its limits' slots, once the end is recorded


def _execute_and_report(claimed, worker, eager, extra, secrets, send):
    ctx = _context(claimed, secrets=secrets)
    started = time.monotonic()
    lines = attempt_log.Lines()
    try:
        action_input = claimed.input
        if secrets is not None:
            slots = claimed.secret_slots or []
            action_input = references.fill_secrets(action_input, slots, secrets)
        with attempt_log.capture(lines):
            output = execute(claimed.action_version, ctx, action_input)
        # Checked before masking: the schema speaks of what the action returned.
        schemas.check_output(claimed.action_version.output_schema, output)
        output = _scrub(output, claimed)
        if time.time() > ctx.deadline + 0.5:
            raise AttemptTimeout(f"the attempt ran past its {claimed.action_version} deadline")
    except ActionError as error:
        log.info("attempt failed: %s", _scrub(str(error), claimed), extra=extra)
        detail = _error_detail(error, claimed)
        return _report(
            engine.fail_attempt,
            claimed,
            detail,
            retryable=error.retryable,
            retry_after=error.retry_after,
            send=send,
            log=_log_text(lines, claimed),
        )
    except references.MissingReference as missing:
        detail = {
            "type": "InvalidInput",
            "message": f"the input refers to {missing.path}, which is missing",
            "retryable": False,
        }
        log_text = _log_text(lines, claimed)
        return _report(
            engine.fail_attempt, claimed, detail, retryable=False, send=send, log=log_text
        )
    except Exception as error:  # an action's own bug: recorded with its traceback, retried
        log.warning("attempt raised %s", error.__class__.__name__, extra=extra)
        detail = _error_detail(error, claimed)
        log_text = _log_text(lines, claimed)
        return _report(
            engine.fail_attempt, claimed, detail, retryable=True, send=send, log=log_text
        )
    log.debug("attempt succeeded in %.1f ms", (time.monotonic() - started) * 1000, extra=extra)
    inline = run_inline if eager and settings.INLINE_PURE_STEPS else None
    return _report(
        engine.complete_attempt,
        claimed,
        output,
        worker=worker,
        eager=eager,
        run_inline=inline,
        send=send,
        log=_log_text(lines, claimed),
    )


def _log_text(lines, claimed):
    """The attempt's log lines, masked with every secret of the workspace."""
    return _scrub(lines.text(), claimed) if lines.lines else ""


def run_inline(claimed):
    """Run a pure action inside the engine's transaction (engine.complete_attempt): its
    output, or engine.NOT_RUN when it needs secrets, fails or overruns its deadline, to be
    run the usual way, where that is recorded and retried."""
    if claimed.secret_slots:
        return engine.NOT_RUN
    ctx = _context(claimed)
    with logs.context(run_id=claimed.run_id, step_key=claimed.step_key, attempt=claimed.number):
        try:
            output = execute(claimed.action_version, ctx, claimed.input)
            schemas.check_output(claimed.action_version.output_schema, output)
        except Exception:
            return engine.NOT_RUN
    if time.time() > ctx.deadline:
        return engine.NOT_RUN  # run again the usual way, which records the timeout
    return _scrub(output, claimed)


def _context(claimed, **extra):
    return ActionContext(
        run_id=claimed.run_id,
        step_key=claimed.step_key,
        attempt=claimed.number,
        idempotency_key=claimed.idempotency_key,
        deadline=claimed.deadline.timestamp(),
        workspace_id=claimed.workspace_id,
        **extra,
    )


def _report(function, *args, **kwargs):
    """Hand an outcome to the engine, riding out a dropped database connection."""
    for attempt in range(REPORT_RETRIES):
        try:
            result = function(*args, **kwargs)
            if function is not engine.complete_attempt:
                return None
            if result is None and attempt > 0 and kwargs.get("eager"):
                # The try that failed may have committed, and claimed the next step for us.
                return engine.eager_claim_after_lost_answer(args[0], kwargs["worker"])
            return result
        except OperationalError:
            if attempt == REPORT_RETRIES - 1:
                raise
            log.warning("database unavailable while reporting; retrying")
            connection.close()
            close_old_connections()
            time.sleep(0.2 * 2**attempt)
    return None


def _secrets_for(claimed):
    """The workspace's secrets, decrypted, loaded only when the step's input or the
    action's own template (a custom http action) asks for one."""
    template = claimed.action_version.config or {}
    wanted = claimed.secret_slots or any(
        path.startswith("secrets.") for _, path in references.find(template)
    )
    if not wanted:
        return None
    return Secret.values_of(claimed.workspace_id)


def _error_detail(error, claimed):
    detail = {
        "type": error.__class__.__name__,
        "message": _scrub(str(error) or error.__class__.__name__, claimed),
        "traceback": _scrub("".join(traceback.format_exception(error)), claimed)[-8000:],
        "retryable": getattr(error, "retryable", True),
    }
    if code := getattr(error, "code", ""):
        detail["code"] = code  # what an `on_error` route matches, beside the class name
    details = getattr(error, "details", None)
    if details:
        detail["details"] = _scrub(details, claimed)
    return detail


def _scrub(value, claimed):
    """Secrets never reach history (an echoing server's output, an error), nor a log line:
    the workspace's values, whether or not this step used them."""
    return mask(value, _values_to_mask(claimed.workspace_id))


def _values_to_mask(workspace_id, fresh=None):
    """The workspace's secret values, read at most every MASK_CACHE_S seconds per process;
    `fresh`, the values a step was just given, replace them (a secret was just changed)."""
    now = time.monotonic()
    if fresh is not None:
        values = tuple(fresh.values())
    elif (entry := _to_mask.get(workspace_id)) is not None and entry[0] > now:
        return entry[1]
    else:
        values = tuple(Secret.values_of(workspace_id).values())
    if len(_to_mask) > 1000:
        _to_mask.clear()
    _to_mask[workspace_id] = (now + MASK_CACHE_S, values)
    return values
