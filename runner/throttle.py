"""The engine's side of limits: may this attempt start now, and if not, hold it.

`admit` is called by the engine as it claims an attempt (runner/engine.py
`claim_attempt`), inside the claim's transaction and through its Transition:
1. a run's first attempt passes its workflow's run gate (runner/run_gate.py), which keeps
   later runs queued, in order;
2. the limits on the step's action (runner/action_limits.py) are taken in the
   coordination Redis (core/limits.py), all or none.
Held, the attempt stays `scheduled`, due later, and no worker waits for it: `admit` moves
its due time on, records an `attempt.throttled` event naming the limit (once per attempt
and limit, not at every try), and has its message sent again, delayed, after the commit. To
the sweeper it is a scheduled attempt whose message is on its way, as after a backoff.

Concurrency slots are leases: a thread of the worker process renews them while their
attempts run, and the worker gives them back as an attempt ends (`finished`); a killed
worker's leases run out after LEASE_S and their slots come back.
"""

import logging
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from django.utils import timezone

from core import limits
from runner import action_limits, run_gate
from runner.models import Attempt, RunEvent
from runner.states import AttemptStatus, RunStatus

log = logging.getLogger(__name__)

EVENT = "attempt.throttled"
REDIS_DOWN_RETRY_S = 1.0

_leases = {}  # attempt id -> Grant, of the attempts this process runs
_leases_lock = threading.Lock()
_renewer = {"pid": None}


@dataclass
class Verdict:
    """What `admit` decided: `held` (the attempt waits; all is done already) or `now`,
    the time the attempt starts at, with the slots it was granted."""

    held: bool = False
    now: datetime | None = None
    grant: limits.Grant | None = field(default=None, repr=False)

    def release(self):
        """The claim did not go through after all: give the slots back."""
        if self.grant is not None:
            _give_back(self.grant)


def lease_s():
    return max(1.0, float(settings.WORKER_DEAD_AFTER_S))


def admit(tx, step, attempt):
    """Let the attempt start (a Verdict with `now`) or hold it (a Verdict with `held`).

    `tx` is the claim's Transition (its `run`, the engine's RunState); `step` has `key`,
    `kind`, `input` and its `action_version`; `attempt` has `id` and `number`. A hold is
    written through `tx`, for the caller to flush.
    """
    run = tx.run
    if run.status == RunStatus.QUEUED and (wait := run_gate.wait(run)) is not None:
        _hold(tx, step, attempt, wait.name, wait.reason, wait.delay_s)
        return Verdict(held=True)
    action = step.action_version.action.name
    wanted = action_limits.for_step(run.workspace_id, action, step.input)
    if not wanted:
        return Verdict(now=timezone.now())
    holder = f"{attempt.id}.{uuid.uuid4().hex[:8]}"
    try:
        outcome = limits.acquire(wanted, holder, str(attempt.id), lease_s())
    except redis.RedisError as error:
        log.warning(
            "limits unreadable (%s); attempt %s waits", error.__class__.__name__, attempt.id
        )
        reason = "the coordination Redis does not answer"
        _hold(tx, step, attempt, "limits", reason, REDIS_DOWN_RETRY_S)
        return Verdict(held=True)
    if isinstance(outcome, limits.Refusal):
        delay = max(outcome.wait_s, outcome.spread_s() * random.uniform(0.75, 1.25))
        _hold(tx, step, attempt, outcome.limit.name, outcome.reason, delay)
        return Verdict(held=True)
    _keep(attempt.id, outcome)
    return Verdict(now=datetime.fromtimestamp(outcome.at_us / 1e6, tz=UTC), grant=outcome)


def limits_step(run, step):
    """Whether the step's action is limited: such a step is never claimed eagerly (an
    eager claim skips `admit`), it goes through the broker and is admitted on arrival."""
    return action_limits.applies(run.workspace_id, step.action_version.action.name)


def finished(attempt_id):
    """The attempt ended (recorded): give back its slots, if it held any."""
    with _leases_lock:
        grant = _leases.pop(attempt_id, None)
    if grant is not None:
        _release(grant)


def _hold(tx, step, attempt, name, reason, delay_s):
    """Move the attempt's due time on, say why in the timeline (once per limit), and send
    it again when due, after the commit."""
    due = tx.now + timedelta(seconds=delay_s)
    tx.writes.update(Attempt, attempt.id, AttemptStatus.SCHEDULED, scheduled_for=due)
    last = (
        RunEvent.objects.filter(
            run_id=tx.run.id,
            type=EVENT,
            step_key=step.key,
            step_kind=step.kind,
            attempt=attempt.number,
        )
        .order_by("-id")
        .values_list("data", flat=True)
        .first()
    )
    if (last or {}).get("limit") != name:
        tx.event(
            EVENT,
            step=step,
            attempt=attempt.number,
            from_status=AttemptStatus.SCHEDULED,
            to_status=AttemptStatus.SCHEDULED,
            message=f"throttled by {name}: {reason}",
            data={"limit": name[:200], "reason": reason[:200]},
        )
    tx.to_send.append((_Sent(attempt.id), max(1, int(delay_s * 1000))))


@dataclass(frozen=True)
class _Sent:
    """The handle `Transition.flush` sends by: an attempt that exists already."""

    id: int


def _give_back(grant):
    with _leases_lock:
        for attempt_id, held in list(_leases.items()):
            if held is grant:
                del _leases[attempt_id]
    _release(grant)


def _release(grant):
    try:
        limits.release(grant)
    except redis.RedisError:
        log.warning("could not give a slot back; it comes back when its lease runs out")


def _keep(attempt_id, grant):
    if not grant.held:
        return
    with _leases_lock:
        _leases[attempt_id] = grant
    _start_renewer()


def _start_renewer():
    """One thread per process renews the leases of the attempts it runs (started on the
    first lease, again in a forked child, where the parent's thread does not exist)."""
    if _renewer["pid"] == os.getpid():
        return
    with _leases_lock:
        if _renewer["pid"] == os.getpid():
            return
        _renewer["pid"] = os.getpid()
    threading.Thread(target=_renew_forever, daemon=True, name="limit-leases").start()


def _renew_forever():
    while True:
        time.sleep(lease_s() / 4)
        renew()


def renew():
    """Push on the leases of every attempt this process runs; count those that lapsed."""
    with _leases_lock:
        grants = list(_leases.values())
    lapsed = 0
    for grant in grants:
        try:
            if limits.renew(grant, lease_s()) < len(grant.held):
                lapsed += 1
        except redis.RedisError:
            log.warning("could not renew a lease; trying again")
    if lapsed:
        log.warning("%d lease(s) had lapsed before renewal", lapsed)
    return lapsed
