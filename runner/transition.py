"""One transition's bookkeeping: the engine's unit of work (runner/engine.py).

A `Transition` holds the locked run, one clock, the events and the writes of one database
transaction; `set_run` and `set_step` move rows forward through it, and `flush` sends
every write as one statement, then the attempts' messages once it commits.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.models import ActionVersion
from runner import fastsql
from runner.models import Run, RunEvent, StepRun
from runner.states import RUN_TRANSITIONS, StepKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dispatch:
    attempt_id: int
    delay_ms: int = 0


@dataclass(frozen=True, kw_only=True)
class ClaimedAttempt:
    """An attempt this worker owns now: what the actor needs to run it."""

    attempt_id: int
    run_id: int
    workspace_id: int
    step_key: str
    step_kind: str
    number: int
    input: dict
    action_version: ActionVersion
    deadline: object  # aware datetime
    step_run_id: int
    started_at: object  # aware datetime, as stored when the attempt was claimed
    secret_slots: list | None = None  # where the definition writes a secret (references.py)

    @property
    def idempotency_key(self):
        suffix = ":compensate" if self.step_kind == StepKind.COMPENSATION else ""
        return f"{self.run_id}:{self.step_key}{suffix}"


class ConcurrentChange(Exception):
    """A compare-and-set found another status than the one the engine held the lock for."""


class Transition:
    """One transition's bookkeeping: its clock, its events, and its writes, which go to
    the database together in `flush` (runner/fastsql.py `Writes`)."""

    def __init__(self, run, eager_worker=None):
        self.run = run
        self.now = timezone.now()
        self.events = []
        self.writes = fastsql.Writes()
        self.to_send = []  # (id handle, delay in ms) of attempts to send after the commit
        self.eager_worker = eager_worker
        self.eager = None  # the attempt claimed for eager_worker: (step, number, deadline, id)
        self.claimed = None  # ... as a ClaimedAttempt, once flushed

    def event(self, type, *, step=None, attempt=None, from_status="", to_status="", **extra):
        self.events.append(
            event_row(
                self.run,
                type,
                self.now,
                step_key=extra.get("step_key", step.key if step else ""),
                step_kind=extra.get("step_kind", step.kind if step else ""),
                attempt=attempt,
                from_status=from_status,
                to_status=to_status,
                message=extra.get("message", "")[:500],
                data=extra.get("data"),
            )
        )

    def send_writes(self):
        """Before the engine reads what this transaction wrote (compensation)."""
        self.writes.send(ConcurrentChange)

    def flush(self):
        for event in self.events:
            self.writes.insert(RunEvent, event)
        self.events = []
        self.send_writes()
        if self.eager is not None:
            step, number, deadline, started_at, handle = self.eager
            self.claimed = make_claim(
                handle[0], self.run, step, number, deadline, started_at=started_at
            )
        if self.to_send:
            dispatches = [Dispatch(handle[0], delay_ms) for handle, delay_ms in self.to_send]
            transaction.on_commit(lambda: send(dispatches))


def send(dispatches):
    """Send after commit. A broker outage must not undo or fail what is committed: the
    attempts stay scheduled and the sweeper sends them again (LOST_MESSAGE_AFTER_S)."""
    from runner import tasks

    try:
        tasks.enqueue(dispatches)
    except Exception:
        log.exception("could not send %d message(s); the sweeper will resend", len(dispatches))


def by_id(steps, step_id):
    return next(s for s in steps if s.id == step_id)


def set_run(tx, status, **fields):
    run = tx.run
    old = run.status
    if status not in RUN_TRANSITIONS.get(old, ()):
        raise ConcurrentChange(f"run {run.id}: {old} -> {status} is not allowed")
    tx.writes.update(Run, run.id, old, status=status, **fields)
    run.status = status
    for name, value in fields.items():
        setattr(run, name, value)
    tx.event(f"run.{status}", from_status=old, to_status=status)


def set_step(tx, step, status, message="", **fields):
    old = step.status
    tx.writes.update(StepRun, step.id, old, status=status, **fields)
    step.status = status
    for name, value in fields.items():
        setattr(step, name, value)
    tx.event(f"step.{status}", step=step, from_status=old, to_status=status, message=message)


def make_claim(attempt_id, run, step, number, deadline, *, started_at):
    return ClaimedAttempt(
        attempt_id=attempt_id,
        run_id=run.id,
        workspace_id=run.workspace_id,
        step_key=step.key,
        step_kind=step.kind,
        number=number,
        input=step.input or {},
        action_version=step.action_version,
        deadline=deadline,
        step_run_id=step.id,
        started_at=started_at,
        secret_slots=step.secret_slots,
    )


def claim_of(attempt):
    """A running attempt loaded with select_related(step_run__action_version__action, run)."""
    return make_claim(
        attempt.id,
        attempt.run,
        attempt.step_run,
        attempt.number,
        attempt.deadline,
        started_at=attempt.started_at,
    )


def event_row(run, type, at, **fields):
    row = {
        "run_id": run.id, "type": type, "step_key": "", "step_kind": "", "attempt": None,
        "from_status": "", "to_status": "", "message": "", "data": None,
        "created_at": at,
    }  # fmt: skip
    row.update(fields)
    return row
