"""Starting and stopping runs from outside the engine, with the broker wired in.

The HTTP surfaces (builder views, webhooks, the API), schedules, reruns and one-off
action runs start runs here: this module sits above the engine and hands it the broker's
`send` (runner/tasks.py), so the engine never imports the broker and the broker's worker
side (tasks -> executor -> engine) is no loop.
"""

from core.audit import AuditEntry, entry, record
from runner import engine, fastsql, run_ending, wait_transitions
from runner.models import Run
from runner.states import Trigger

# Runs someone asked for; webhooks and schedules start theirs as configured (that
# configuration is what the audit log records).
ASKED = (Trigger.MANUAL, Trigger.API, Trigger.RERUN)


def send(dispatches):
    """The broker's send. Imported on first use: importing runner.tasks builds the broker,
    which must not happen when Django loads the admin (a soak points it elsewhere first)."""
    from runner import tasks

    tasks.enqueue(dispatches)


def start_run(**options) -> Run:
    """`engine.start_run` with the broker's send (same keyword arguments); a run someone
    asked for is recorded in the audit log, in the statement that starts it (one round
    trip and one commit fewer, and never a run without its entry)."""
    if options.get("trigger", Trigger.MANUAL) in ASKED:
        options["also_insert"] = [*options.get("also_insert", ()), (AuditEntry, _audit_row)]
    return engine.start_run(send=send, **options)


def _audit_row(run):
    data = {"trigger": run.trigger}
    if run.rerun_of_id:
        data.update(rerun_of=run.rerun_of_id, rerun_from=run.rerun_from)
    if run.workflow_version_id:
        data["version"] = run.workflow_version.number
    action = "run.rerun" if run.rerun_of_id else "run.start"
    return fastsql.row_of(entry(action, run.workspace, run, label=_label(run), data=data))


def cancel_run(run_id: int, user=None, by="") -> None:
    """`run_ending.cancel_run` with the broker's send."""
    run_ending.cancel_run(run_id, user, by, send=send)
    run = Run.objects.select_related("workflow", "action", "workspace").get(id=run_id)
    record("run.cancel", run.workspace, run, label=_label(run), data={"by": by} if by else None)


def _label(run):
    """ "#12 of nightly-sync" (its workflow's or action's name)."""
    what = run.workflow.slug if run.workflow_id else (run.action.name if run.action_id else "")
    return f"#{run.id} of {what}" if what else f"#{run.id}"


def reconcile(run_id: int) -> None:
    engine.reconcile(run_id, send=send)


def time_out_run(run_id: int) -> bool:
    """`run_ending.time_out_run` with the broker's send."""
    return run_ending.time_out_run(run_id, send=send)


def expire_attempt(attempt_id: int, reason: str):
    return engine.expire_attempt(attempt_id, reason, send=send)


def wake_due(run_id: int) -> int:
    return wait_transitions.wake_due(run_id, send=send)


def deliver_event(run_id: int, name: str, payload) -> list[str]:
    """`wait_transitions.deliver_event` with the broker's send."""
    return wait_transitions.deliver_event(run_id, name, payload, send=send)


def decide_approval(run_id: int, key: str | None, *, approved: bool, by: str, comment: str):
    """`wait_transitions.decide_approval` with the broker's send; the decision is audited
    (the comment is not copied: it may quote anything)."""
    step = wait_transitions.decide_approval(
        run_id, key, approved=approved, by=by, comment=comment, send=send
    )
    run = Run.objects.select_related("workflow", "action", "workspace").get(id=run_id)
    action = "run.approve" if approved else "run.reject"
    record(action, run.workspace, run, label=_label(run), data={"step": step})
    return step
