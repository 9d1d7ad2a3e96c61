"""Wait steps: a `sleep`, an `event` and an `approval` hold no worker while they wait.

The engine starts one (runner/wait_steps.py) by moving it from pending to `waiting`, with
`wake_at` (a sleep's end, or the timeout of an event or approval; None: never) and
`waiting_for` ("sleep", "event:<name>", "approval:<role>"). Nothing is sent to a worker.
A step that would start a run its workflow's limits keep queued waits first for
admission (`waiting_for` "admission"), and goes back to pending once the run may go.
It is resumed, through the transitions of runner/wait_transitions.py, by
- the sweeper, once `wake_at` has passed (runner/sweeper.py `_wake_due`): a sleep
  succeeds, a timeout follows the step's `on_timeout`;
- an event delivered to the run (API or webhook): the event's JSON is the step's output;
- a member's (or an API key's) approval or rejection: `{"approved", "by", "comment"}`.
The functions here are pure: what a wait starts as and how it ends; the engine writes.
Format and choices: README ("Waits") and docs/DECISIONS.md.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from core import references
from core.models import Role
from core.workspaces import RANK

SLEEP, EVENT, APPROVAL = "sleep", "event", "approval"
TYPES = (SLEEP, EVENT, APPROVAL)
# A step that would start its queued run but holds no attempt (a wait, a sub-workflow)
# while the workflow's limits keep the run queued (runner/run_gate.py); `wake_at` is
# when it asks again.
ADMISSION = "admission"
TIMEOUT_CODE = "wait_timeout"
# Who may decide an approval: its role or higher (viewers never).
APPROVER_ROLES = (Role.EDITOR, Role.OWNER)


def is_wait(spec: dict) -> bool:
    return spec.get("type") in TYPES


@dataclass(frozen=True)
class Start:
    """How a wait begins: until when, for what, and what its event says; or why it
    cannot (`error`, e.g. a sleep's `until` that is not a time)."""

    wake_at: datetime | None = None
    waiting_for: str = ""
    message: str = ""
    error: dict | None = None


@dataclass(frozen=True)
class End:
    """How a wait ends: succeeded with `output`, or failed with `error`."""

    output: object = None
    error: dict | None = None
    message: str = ""
    data: dict | None = field(default=None)


def start(spec: dict, scope: dict, now: datetime) -> Start:
    kind = spec["type"]
    if kind == SLEEP:
        return _start_sleep(spec, scope, now)
    timeout = spec.get("timeout_s")
    wake_at = now + timedelta(seconds=timeout) if timeout else None
    until = f"; times out at {_iso(wake_at)}" if wake_at else ""
    if kind == EVENT:
        return Start(wake_at, f"event:{spec['event']}", f"waiting for event {spec['event']}{until}")
    role = spec.get("role", Role.EDITOR)
    return Start(wake_at, f"approval:{role}", f"waiting for approval by an {role} or above{until}")


def held(wait, now: datetime) -> Start:
    """A step held for admission by the run gate's `wait` (a run_gate.Wait)."""
    wake_at = now + timedelta(seconds=wait.delay_s)
    return Start(wake_at, ADMISSION, f"queued by {wait.name}: {wait.reason}")


def _start_sleep(spec, scope, now):
    if "for_s" in spec:
        wake_at = now + timedelta(seconds=spec["for_s"])
    else:
        try:
            value = references.render(spec["until"], scope)
        except references.MissingReference as missing:
            return Start(error=_bad_until(f"until refers to {missing.path}, which is missing"))
        wake_at = parse_time(value)
        if wake_at is None:
            return Start(error=_bad_until(f"until must be an ISO 8601 time, not {value!r}"[:300]))
    return Start(max(wake_at, now), SLEEP, f"sleeping until {_iso(max(wake_at, now))}")


def _bad_until(message):
    return {"type": "InvalidInput", "code": "invalid_input", "message": message, "retryable": False}


def parse_time(value) -> datetime | None:
    """An ISO 8601 time (UTC when it names no offset) or a Unix time in seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def woke(spec: dict, wake_at: datetime) -> End:
    """The end of a wait whose `wake_at` passed: a sleep is over, a timeout follows policy."""
    kind = spec["type"]
    if kind == SLEEP:
        return End(output={"slept_until": _iso(wake_at)}, message="woke up")
    policy = spec.get("on_timeout", "fail")
    what = f"event {spec['event']}" if kind == EVENT else "approval"
    message = f"no {what} within {spec['timeout_s']} s"
    if policy == "fail":
        error = {"type": "WaitTimeout", "code": TIMEOUT_CODE, "message": message}
        return End(error={**error, "retryable": False}, message=message)
    if kind == EVENT:  # "continue": no event, so no output
        return End(output=None, message=f"{message}; continued")
    approved = policy == "approve"
    output = {"approved": approved, "by": None, "comment": f"timed out after {spec['timeout_s']} s"}
    return End(output=output, message=f"{message}; {'approved' if approved else 'rejected'}")


def event_arrived(name: str, payload) -> End:
    return End(output=payload, message=f"event {name} arrived", data={"event": name})


def decided(approved: bool, by: str, comment: str, at: datetime) -> End:
    """A decision's output; its event says who, when and why (the timeline shows it)."""
    verb = "approved" if approved else "rejected"
    output = {"approved": approved, "by": by, "comment": comment}
    when = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    message = f"{verb} by {by} at {when}" + (f": {comment}" if comment else "")
    return End(output=output, message=message[:500], data={"decision": verb, **output})


def approval_role(waiting_for: str) -> str | None:
    kind, _, role = waiting_for.partition(":")
    return role if kind == APPROVAL else None


def may_decide(waiting_for: str, role: str) -> bool:
    """Whether a member (or API key) of `role` may approve or reject this waiting step."""
    needed = approval_role(waiting_for)
    return needed is not None and role in RANK and RANK[role] >= RANK[needed]


def roles_deciding(role: str) -> list[str]:
    """The `waiting_for` values of the approvals a member of `role` may decide."""
    return [f"{APPROVAL}:{r}" for r in APPROVER_ROLES if RANK.get(role, -1) >= RANK[r]]


def _iso(moment):
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
