"""The safety net that keeps every run moving whatever crashed.

Each worker process runs `loop` in a thread. Every WAKE_INTERVAL_S, if it wins a short
lock of its own, it resumes the wait steps whose time came (runner/waits.py): a sleep
ends, an event or approval times out, within a second of its `wake_at`. Every
SWEEP_INTERVAL_S it records its own heartbeat, then, if it wins the short lock in the
coordination Redis (`REDIS_URL`, the broker's own unless the broker is RabbitMQ; one
sweeper at a time), it:
1. ends the runs past their deadline (`run_timeout_s`): the engine fails what runs and
   compensates; then expires running attempts whose worker stopped beating (killed) or
   whose deadline passed; the engine fails them as timeouts and retries them by policy;
2. sends again the messages of scheduled attempts the broker lost: all of them when the
   broker's marker is gone (Redis flushed or restarted empty, RabbitMQ reset or purged),
   else those overdue by LOST_MESSAGE_AFTER_S — each at most once per its own backoff
   (LOST_MESSAGE_AFTER_S, doubling, at most MAX_RESEND_INTERVAL), recorded on the attempt
   and counted in /metrics, so a backlog that workers are merely slow to drain is not
   sent again on every pass;
3. reconciles active runs that have no open attempt and no waiting step (nothing should
   cause that; this makes sure nothing stays running for ever if something does);
   then starts the runs that schedules are due for (runner/schedules.py);
4. purges expired idempotency keys and old webhook deliveries, a batch at a time, and
   the runs each workspace's retention policy lets go (runner/pruning.py), for at most
   a quarter of a second;
5. raises the alerts the rules ask for and delivers the due ones (runner/alerts.py,
   runner/alert_channels.py), after the engine's transactions committed.
Every change goes through the engine's compare-and-set transitions, so two sweepers, or
a sweeper and a late worker, cannot both apply one transition.
"""

import logging
import os
import socket
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from core import counters
from core.counters import coordination_redis
from core.models import WorkerHeartbeat
from runner import alert_channels, alerts, launch, pruning, schedules
from runner.models import Attempt, Run, StepRun
from runner.states import ACTIVE_RUN, AttemptStatus, RunStatus, StepStatus
from runner.transition import Dispatch

log = logging.getLogger(__name__)

LOCK_KEY = "brickwork:sweeper-lock"
WAKE_LOCK_KEY = "brickwork:wake-lock"
# How often due waits are looked for: a sleep ends within this (plus one transaction).
WAKE_INTERVAL_S = 0.25
DEADLINE_GRACE = timedelta(seconds=2)
BATCH = 500
MAX_RESEND_INTERVAL = timedelta(minutes=10)
RESENT_COUNTER = "brickwork:metrics:resent"


def loop(stop):
    next_sweep = 0.0
    while not stop.is_set():
        try:
            close_old_connections()
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + settings.SWEEP_INTERVAL_S
                heartbeat()
                if _take_lock():
                    sweep()
            elif _take_lock(WAKE_LOCK_KEY, WAKE_INTERVAL_S):
                wake_due(timezone.now())
        except Exception:
            log.exception("sweeper pass failed; trying again next interval")
        stop.wait(min(WAKE_INTERVAL_S, settings.SWEEP_INTERVAL_S))


def heartbeat():
    from runner.tasks import worker_id

    WorkerHeartbeat.objects.update_or_create(
        worker=worker_id(),
        defaults={
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "last_seen_at": timezone.now(),
        },
    )


def forget_worker():
    from runner.tasks import worker_id

    WorkerHeartbeat.objects.filter(worker=worker_id()).delete()


def live_workers():
    """Workers whose last heartbeat is younger than WORKER_DEAD_AFTER_S; older ones are dead."""
    since = timezone.now() - timedelta(seconds=settings.WORKER_DEAD_AFTER_S)
    return WorkerHeartbeat.objects.filter(last_seen_at__gte=since)


def sweep(now=None):
    """One pass; returns what it did, for tests and the logs."""
    now = now or timezone.now()
    done = {"expired": 0, "redispatched": 0, "reconciled": 0}
    done["timed_out"] = _time_out_runs(now)
    done["woken"] = wake_due(now)
    done["expired"] = _expire_running(now)
    done["redispatched"] = _redispatch_lost(now)
    done["reconciled"] = _reconcile_idle_runs(now)
    done["scheduled"] = schedules.fire_due(now)
    done["purged"] = _purge_history(now)
    done["pruned"] = _prune_runs(now)
    done["alerted"], done["alerts_sent"] = _alert(now)
    if any(done.values()):
        log.info("sweeper: %s", done)
    return done


def _time_out_runs(now):
    overdue = Run.objects.filter(
        status__in=[RunStatus.QUEUED, RunStatus.RUNNING], deadline__isnull=False, deadline__lt=now
    )
    return sum(
        1 for run_id in overdue.values_list("id", flat=True)[:BATCH] if launch.time_out_run(run_id)
    )


def wake_due(now):
    """Resume the waits whose `wake_at` has passed, run by run; returns the steps resumed."""
    due = (
        StepRun.objects.filter(status=StepStatus.WAITING, wake_at__lte=now)
        .order_by("wake_at")
        .values_list("run_id", flat=True)[:BATCH]
    )
    return sum(launch.wake_due(run_id) for run_id in dict.fromkeys(due))


def _expire_running(now):
    dead_after = timedelta(seconds=settings.WORKER_DEAD_AFTER_S)
    live = list(live_workers().values_list("worker", flat=True))
    overdue = Attempt.objects.filter(
        status=AttemptStatus.RUNNING, deadline__lt=now - DEADLINE_GRACE
    )
    orphaned = Attempt.objects.filter(
        status=AttemptStatus.RUNNING, started_at__lt=now - dead_after
    ).exclude(worker__in=live)
    count = 0
    for attempt_id in overdue.values_list("id", flat=True)[:BATCH]:
        if launch.expire_attempt(attempt_id, "the attempt ran past its timeout"):
            count += 1
    for attempt_id, worker in orphaned.values_list("id", "worker")[:BATCH]:
        reason = f"the worker running it stopped ({worker or 'unknown'}); attempt abandoned"
        if launch.expire_attempt(attempt_id, reason):
            count += 1
    return count


def _redispatch_lost(now):
    from runner.tasks import broker_lost_its_messages, enqueue

    scheduled = Attempt.objects.filter(status=AttemptStatus.SCHEDULED)
    if not broker_lost_its_messages():
        # Messages are presumed lost only when overdue, and re-sent again only once the
        # attempt's own backoff has passed.
        lost_after = timedelta(seconds=settings.LOST_MESSAGE_AFTER_S)
        scheduled = scheduled.filter(scheduled_for__lt=now - lost_after).filter(
            Q(resend_after__isnull=True) | Q(resend_after__lt=now)
        )
    found = list(
        scheduled.order_by("scheduled_for").values_list("id", "scheduled_for", "resent_count")[
            : BATCH * 4
        ]
    )
    if not found:
        return 0
    enqueue(
        [
            Dispatch(attempt_id, max(0, int((due - now).total_seconds() * 1000)))
            for attempt_id, due, _ in found
        ]
    )
    _record_resends(found, now)
    return len(found)


def _record_resends(found, now):
    """Each attempt's re-send count and the time before which it is not sent again."""
    by_count = defaultdict(list)
    for attempt_id, _, count in found:
        by_count[count].append(attempt_id)
    for count, ids in by_count.items():
        Attempt.objects.filter(id__in=ids, status=AttemptStatus.SCHEDULED).update(
            resent_count=F("resent_count") + 1, resend_after=now + resend_interval(count + 1)
        )
    counters.add(RESENT_COUNTER, len(found))


def resend_interval(resent_count):
    """LOST_MESSAGE_AFTER_S after the first re-send, doubling after each, capped."""
    seconds = settings.LOST_MESSAGE_AFTER_S * 2 ** min(resent_count - 1, 20)
    return min(timedelta(seconds=seconds), MAX_RESEND_INTERVAL)


def _reconcile_idle_runs(now):
    open_attempts = Attempt.objects.filter(
        run_id=OuterRef("id"), status__in=[AttemptStatus.SCHEDULED, AttemptStatus.RUNNING]
    )
    # A step waiting (a sleep, an event, an approval) is something in flight too.
    waiting = StepRun.objects.filter(run_id=OuterRef("id"), status=StepStatus.WAITING)
    idle = (
        Run.objects.filter(status__in=ACTIVE_RUN, created_at__lt=now - timedelta(seconds=10))
        .filter(~Exists(open_attempts), ~Exists(waiting))
        .values_list("id", flat=True)[:BATCH]
    )
    count = 0
    for run_id in idle:
        launch.reconcile(run_id)
        count += 1
    return count


def _purge_history(now):
    """Expired idempotency keys and old webhook deliveries, a batch per pass."""
    from builder.models import WebhookDelivery
    from core.models import IdempotencyKey

    purged = 0
    for model in (IdempotencyKey, WebhookDelivery):
        try:
            purged += model.purge_expired(now)
        except Exception:  # history clean-up must never stop the sweeper's real work
            log.exception("purging %s failed", model.__name__)
    return purged


def _prune_runs(now):
    try:
        return pruning.prune_pass(now).runs
    except Exception:  # like the purge: retention must never stop the sweeper's real work
        log.exception("pruning runs failed")
        return 0


def _alert(now):
    try:
        alerts.purge_old(now)
        return alerts.scan(now), alert_channels.deliver_due(now)
    except Exception:  # a broken receiver or rule must never stop the sweeper's real work
        log.exception("alerting failed")
        return 0, 0


def _take_lock(key=LOCK_KEY, interval_s=None):
    interval_s = settings.SWEEP_INTERVAL_S if interval_s is None else interval_s
    interval_ms = max(100, int(interval_s * 1000) - 50)
    return bool(coordination_redis().set(key, "1", nx=True, px=interval_ms))
