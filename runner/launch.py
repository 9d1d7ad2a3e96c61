"""Starting and stopping runs from outside the engine, with the broker wired in.

The HTTP surfaces (builder views, webhooks, the API), schedules, reruns and one-off
action runs start runs here: this module sits above the engine and hands it the broker's
`send` (runner/tasks.py), so the engine never imports the broker and the broker's worker
side (tasks -> executor -> engine) is no loop.
"""

from runner import engine
from runner.models import Run


def send(dispatches):
    """The broker's send. Imported on first use: importing runner.tasks builds the broker,
    which must not happen when Django loads the admin (a soak points it elsewhere first)."""
    from runner import tasks

    tasks.enqueue(dispatches)


def start_run(**options) -> Run:
    """`engine.start_run` with the broker's send (same keyword arguments)."""
    return engine.start_run(send=send, **options)


def cancel_run(run_id: int, user=None, by="") -> None:
    """`engine.cancel_run` with the broker's send."""
    engine.cancel_run(run_id, user, by, send=send)


def reconcile(run_id: int) -> None:
    engine.reconcile(run_id, send=send)


def time_out_run(run_id: int) -> bool:
    """`engine.time_out_run` with the broker's send."""
    return engine.time_out_run(run_id, send=send)


def expire_attempt(attempt_id: int, reason: str):
    return engine.expire_attempt(attempt_id, reason, send=send)
