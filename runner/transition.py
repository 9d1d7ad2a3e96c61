"""One transition's bookkeeping: the engine's unit of work, and its one way to write.

A `Transition` holds the locked run, one clock, the events and the writes of one database
transaction. Every row a transition changes goes through the functions here, which queue
it on `tx.writes` (runner/fastsql.py `Writes`), checked against the tables of allowed
status changes (runner/states.py):

    runs       set_run                (status, output, error, needs_review),
               resolve_original       (an original's resolution, when its rerun succeeds)
    steps      add_steps, add_step, set_step
    attempts   add_attempt, set_attempt
    events     Transition.event

`flush` sends every write as one statement, then hands the attempts' messages to the
`send` function it was given, once the transaction commits.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core import key_order
from core.models import ActionVersion
from runner import fastsql
from runner.fastsql import ForbiddenTransition, LostUpdate
from runner.models import Attempt, Run, RunEvent, StepRun
from runner.run_state import STEP_STATE
from runner.states import (
    ATTEMPT_BORN,
    ATTEMPT_TRANSITIONS,
    RUN_TRANSITIONS,
    STEP_BORN,
    STEP_TRANSITIONS,
    AttemptStatus,
    RunStatus,
    StepKind,
    StepStatus,
)

log = logging.getLogger(__name__)

__all__ = ["ConcurrentChange", "ForbiddenTransition", "LostUpdate", "Transition"]

TRANSITIONS = {Run: RUN_TRANSITIONS, StepRun: STEP_TRANSITIONS, Attempt: ATTEMPT_TRANSITIONS}
BORN = {Run: {RunStatus.QUEUED}, StepRun: STEP_BORN, Attempt: ATTEMPT_BORN}

# A compare-and-set that found another status than the one held under the lock.
ConcurrentChange = LostUpdate


@dataclass(frozen=True)
class Dispatch:
    attempt_id: int
    delay_ms: int = 0


Send = Callable[[list[Dispatch]], None]


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
    parent_id: int | None = None  # a for-each's item (or its compensation): its step
    item_index: int | None = None

    @property
    def idempotency_key(self):
        suffix = ":compensate" if self.step_kind == StepKind.COMPENSATION else ""
        return f"{self.run_id}:{event_key(self)}{suffix}"


def event_key(step):
    """What events and idempotency keys call a step (or a claim): an item is `key[index]`."""
    key = step.key if hasattr(step, "key") else step.step_key
    index = getattr(step, "item_index", None)
    return key if index is None else f"{key}[{index}]"


class Transition:
    """One transition's bookkeeping: its clock, its events, and its writes, which go to
    the database together in `flush`; `send` takes the attempts to dispatch."""

    def __init__(self, run, send: Send, eager_worker=None):
        self.run = run
        self.run_id = None  # the run's id before `run` is read (complete_attempt)
        self.send = send
        self.now = timezone.now()
        self.events = []
        self.writes = fastsql.Writes(TRANSITIONS, BORN)
        self.to_send = []  # (Pending attempt, delay in ms) to send after the commit
        self.eager_worker = eager_worker
        self.eager = None  # attempt claimed for eager_worker: (step, number, deadline, at, Pending)
        self.claimed = None  # ... as a ClaimedAttempt, once flushed

    def event(self, type, *, step=None, attempt=None, from_status="", to_status="", **extra):
        self.events.append(
            event_row(
                self.run.id if self.run is not None else self.run_id,
                type,
                self.now,
                step_key=extra.get("step_key", event_key(step) if step else ""),
                step_kind=extra.get("step_kind", step.kind if step else ""),
                attempt=attempt,
                from_status=from_status,
                to_status=to_status,
                message=extra.get("message", "")[:500],
                data=extra.get("data"),
            )
        )

    def send_writes(self, lock=None, *, commit=False):
        """Before a read that needs what this transaction wrote (`Writes.send`)."""
        for event in self.events:
            self.writes.insert(RunEvent, event)
        self.events = []
        return self.writes.send(lock, commit=commit)

    def flush(self, *, commit=False):
        """Send what is left; with `commit`, nothing follows in the transaction, and COMMIT
        may go with these writes (`Writes.send`)."""
        self.send_writes(commit=commit)
        if self.eager is not None:
            step, number, deadline, started_at, handle = self.eager
            self.claimed = make_claim(
                handle.id, self.run, step, number, deadline, started_at=started_at
            )
        if self.to_send:
            dispatches = [Dispatch(handle.id, delay_ms) for handle, delay_ms in self.to_send]
            send = self.send
            transaction.on_commit(lambda: send_safely(send, dispatches))


def send_safely(send, dispatches):
    """Send after commit. A broker outage must not undo or fail what is committed: the
    attempts stay scheduled and the sweeper sends them again (LOST_MESSAGE_AFTER_S)."""
    try:
        send(dispatches)
    except Exception:
        log.exception("could not send %d message(s); the sweeper will resend", len(dispatches))


def by_id(steps, step_id):
    return next(s for s in steps if s.id == step_id)


# ---------------------------------------------------------------------------
# Runs


def set_run(tx, status, **fields):
    run = tx.run
    old = run.status
    tx.writes.update(Run, run.id, old, status=status, **fields)
    run.status = status
    for name, value in fields.items():
        setattr(run, name, value)
    tx.event(f"run.{status}", from_status=old, to_status=status)


def resolve_original(tx, original_id):
    """A rerun that succeeded takes its original out of the failures inbox, with a note
    linking the two; an original someone already resolved (or deleted) is left alone."""
    found = fastsql.rows(Run, ("id", "resolved_at"), {"id": original_id})
    if not found or found[0].resolved_at is not None:
        return
    note = f"Resolved by rerun #{tx.run.id}, which succeeded."
    tx.writes.update(
        Run, original_id, None, resolved_at=tx.now, resolution_note=note, resolved_by_run=tx.run.id
    )
    tx.event("run.resolved_original", message=f"resolved run #{original_id}")


def flag_run(tx, step, message):
    """Mark the run for a person to look at (a compensation failed); once."""
    run = tx.run
    if run.needs_review:
        return
    tx.writes.update(Run, run.id, None, needs_review=True)
    run.needs_review = True
    tx.event("run.flagged", step=step, message=message)


# ---------------------------------------------------------------------------
# Steps


def add_steps(tx, steps):
    """Insert a new run's StepRun instances (pending, or succeeded when reused) with ids."""
    tx.writes.create(steps)


def add_step(tx, **row):
    """Insert one pending step (a compensation) now, and return it as the engine reads
    steps (`STEP_STATE`): later writes of this transaction point at its id."""
    row = {"status": StepStatus.PENDING, "attempt_count": 0, **row}
    handle = tx.writes.insert(StepRun, row, wants_id=True)
    tx.send_writes()
    step = fastsql.Row(STEP_STATE, [handle.id if n == "id" else row.get(n) for n in STEP_STATE])
    return step


def set_step(tx, step, status, message="", data=None, **fields):
    """`message` says why, in the step's event (a skip's reason, a switch's case); `data`
    is the event's (who decided an approval)."""
    old = step.status
    tx.writes.update(StepRun, step.id, old, status=status, **fields)
    step.status = status
    for name, value in fields.items():
        setattr(step, name, value)
    tx.event(
        f"step.{status}", step=step, from_status=old, to_status=status, message=message, data=data
    )


def skip_items(tx, parent, ids, message):
    """Pending items of a for-each that will never start: skipped, with one event on their
    step rather than one per item (a fail-fast of 10,000 items)."""
    for item_id in ids:
        tx.writes.update(
            StepRun, item_id, StepStatus.PENDING, status=StepStatus.SKIPPED, ended_at=tx.now
        )
    tx.event("step.items_skipped", step=parent, message=message, data={"count": len(ids)})


def mark_handled(tx, step, route):
    """A failed step whose failure an `on_error` route took (no status change)."""
    tx.writes.update(StepRun, step.id, StepStatus.FAILED, handled=route)
    step.handled = route
    handlers = ", ".join(route["next"])
    message = f"handled by on_error[{route['route']}] ({route['match']}): runs {handlers}"
    tx.event("step.handled", step=step, message=message, data=route)


def count_attempt(tx, step, number):
    """The step's attempt count, when a retry adds one (no status change)."""
    if step.attempt_count != number:
        tx.writes.update(StepRun, step.id, step.status, attempt_count=number)
        step.attempt_count = number


# ---------------------------------------------------------------------------
# Attempts


def add_attempt(tx, step, number, due, *, wants_id=True):
    """Insert a scheduled attempt; returns its `Pending` handle (id once flushed)."""
    row = {
        "run_id": tx.run.id, "step_run_id": step.id, "number": number, "scheduled_for": due,
        "status": AttemptStatus.SCHEDULED, "started_at": None, "deadline": None, "worker": "",
    }  # fmt: skip
    handle = tx.writes.insert(Attempt, row, wants_id=wants_id)
    data = {"delay_s": round((due - tx.now).total_seconds(), 3)} if due > tx.now else None
    tx.event(
        "attempt.scheduled", step=step, attempt=number, to_status=AttemptStatus.SCHEDULED, data=data
    )
    return handle


def set_attempt(
    tx, attempt, old, status, *, step=None, number=None, data=None, message="", **fields
):
    """Move one attempt (an id, or the `Pending` handle of one added in this transition)
    from `old` to `status`, with its event. `step` is the step (or a claim: its
    `step_key`/`step_kind` name it)."""
    tx.writes.update(Attempt, attempt, old, status=status, **fields)
    tx.event(
        "attempt.started" if status == AttemptStatus.RUNNING else f"attempt.{status}",
        step_key=event_key(step),
        step_kind=step.kind if hasattr(step, "kind") else step.step_kind,
        attempt=number,
        from_status=old,
        to_status=status,
        message=message,
        data=data,
    )


# ---------------------------------------------------------------------------
# Claims


def make_claim(attempt_id, run, step, number, deadline, *, started_at):
    return ClaimedAttempt(
        attempt_id=attempt_id,
        run_id=run.id,
        workspace_id=run.workspace_id,
        step_key=step.key,
        step_kind=step.kind,
        number=number,
        # In the order it was rendered in (core/key_order.py): the action sees it so.
        input=key_order.restore(step.input, getattr(step, "input_keys", None)) or {},
        action_version=step.action_version,
        deadline=deadline,
        step_run_id=step.id,
        started_at=started_at,
        secret_slots=step.secret_slots,
        parent_id=getattr(step, "parent_id", None),
        item_index=getattr(step, "item_index", None),
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


def event_row(run_id, type, at, **fields):
    row = {
        "run_id": run_id, "type": type, "step_key": "", "step_kind": "", "attempt": None,
        "from_status": "", "to_status": "", "message": "", "data": None,
        "created_at": at,
    }  # fmt: skip
    row.update(fields)
    return row
