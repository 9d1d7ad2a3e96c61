"""Schedules start runs on a clock: each sweeper pass fires what is due.

Exactly once per fire time: a run's (schedule, scheduled_for) is unique, so when two
sweepers fire the same time, the second insert fails, is rolled back, and nothing else
happens. `next_fire_at` moves forward by compare-and-set for the same reason.

A fire time is on time when it is at most ON_TIME_S old; older ones (Brickwork was down)
still fire while within the schedule's catch-up window, oldest first, and are counted as
missed beyond it. While the schedule's previous run is going, the overlap policy decides:
skip the time, buffer one (started when the previous ends), run alongside, or cancel
the previous run first.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.audit import delete_recorded, record_save
from core.errors import InvalidInput, InvalidTransition
from runner import launch
from runner.models import Overlap, Run, Schedule
from runner.schedule_times import Spec, next_times, problems, times_between
from runner.states import ACTIVE_RUN, Trigger

log = logging.getLogger(__name__)

ON_TIME_S = 5  # a fire time this late is simply late, not missed
MAX_FIRES_PER_PASS = 100  # per schedule; the rest fire at the next pass
MAX_MISSED_COUNTED = 10_000
BACKFILL_LIMIT = 1_000


def spec_of(schedule):
    return Spec(
        cron=schedule.cron,
        interval_s=schedule.interval_s,
        timezone=schedule.timezone,
        anchor=schedule.created_at,
    )


def first_fire_time(schedule, now=None):
    return next_times(spec_of(schedule), now or timezone.now(), 1)[0]


def fire_due(now=None, limit=50):
    """One sweeper pass: fire every due schedule, then start runs that were buffered."""
    now = now or timezone.now()
    due = (
        Schedule.objects.filter(paused=False, next_fire_at__lte=now)
        .select_related("workflow", "workspace")
        .order_by("next_fire_at")[:limit]
    )
    started = 0
    for schedule in due:
        try:
            started += fire(schedule, now)
        except Exception:
            log.exception("schedule %s could not fire", schedule.id)
    buffered = Schedule.objects.filter(paused=False, buffered_for__isnull=False)
    for schedule in buffered.select_related("workflow", "workspace"):
        started += _release_buffered(schedule)
    return started


def fire(schedule, now):
    """Fire the times from `next_fire_at` up to `now`, then move `next_fire_at` on;
    returns the number of runs started."""
    spec = spec_of(schedule)
    due_from = schedule.next_fire_at
    window_start = now - timedelta(seconds=max(schedule.catchup_window_s, ON_TIME_S))
    missed = 0
    if due_from < window_start:
        missed = len(
            times_between(spec, due_from - _TICK, window_start - _TICK, MAX_MISSED_COUNTED)
        )
        due_from = window_start
    times = times_between(spec, due_from - _TICK, now, MAX_FIRES_PER_PASS)
    started = sum(fire_once(schedule, fire_time) is not None for fire_time in times)
    following = times[-1] if len(times) == MAX_FIRES_PER_PASS else now
    moved = Schedule.objects.filter(id=schedule.id, next_fire_at=schedule.next_fire_at).update(
        next_fire_at=next_times(spec, following, 1)[0],
        missed=F("missed") + missed,
        last_fired_at=times[-1] if times else F("last_fired_at"),
    )
    if missed and moved:
        log.warning("schedule %s missed %d fire times (catch-up window)", schedule.id, missed)
    return started


def fire_once(schedule, fire_time, overlap=None):
    """Apply the overlap policy to one fire time; the run started, or None."""
    overlap = overlap or schedule.overlap
    active = Run.objects.filter(schedule=schedule, status__in=ACTIVE_RUN)
    if overlap != Overlap.ALLOW_ALL and active.exists():
        if overlap == Overlap.SKIP:
            Schedule.objects.filter(id=schedule.id).update(skipped=F("skipped") + 1)
            return None
        if overlap == Overlap.BUFFER_ONE:
            # One waits at most: a later time replaces an earlier waiting one.
            Schedule.objects.filter(id=schedule.id).update(buffered_for=fire_time)
            return None
        for run_id in active.values_list("id", flat=True):
            _cancel(run_id, schedule)
    return start(schedule, fire_time)


def start(schedule, fire_time):
    """The run of `fire_time`, or None when it exists already or cannot start (said in
    the schedule's `last_error`)."""
    workflow = schedule.workflow
    if workflow.archived_at is not None:
        return _failed(schedule, "The workflow is archived: it starts no new run.")
    version = workflow.versions.order_by("-number").first()
    if version is None:
        return _failed(schedule, "The workflow has no published version.")
    try:
        with transaction.atomic():
            run = launch.start_run(
                workspace=schedule.workspace,
                definition=version.definition,
                input=schedule.input,
                trigger=Trigger.SCHEDULE,
                workflow=workflow,
                workflow_version=version,
                user=schedule.created_by,
                schedule=schedule,
                scheduled_for=fire_time,
            )
    except IntegrityError:
        return None  # another sweeper fired this time first
    except InvalidInput as error:
        return _failed(schedule, f"The schedule's input is invalid: {error.fields}")
    Schedule.objects.filter(id=schedule.id).update(last_error="")
    return run


def backfill(schedule, start_at, end_at, overlap=Overlap.ALLOW_ALL):
    """Runs for the fire times in (start_at, end_at], as if they had fired then; times
    that already have a run are left alone. Returns the runs started."""
    times = times_between(spec_of(schedule), start_at, end_at, BACKFILL_LIMIT)
    return [run for t in times if (run := fire_once(schedule, t, overlap)) is not None]


def _release_buffered(schedule):
    if Run.objects.filter(schedule=schedule, status__in=ACTIVE_RUN).exists():
        return 0
    taken = Schedule.objects.filter(id=schedule.id, buffered_for=schedule.buffered_for)
    if taken.update(buffered_for=None):
        return start(schedule, schedule.buffered_for) is not None
    return 0


def _cancel(run_id, schedule):
    try:
        launch.cancel_run(run_id, by=f"schedule {schedule.name!r} (cancel_previous)")
    except InvalidTransition:
        pass  # it ended meanwhile


def _failed(schedule, message):
    Schedule.objects.filter(id=schedule.id).update(last_error=message)
    log.warning("schedule %s: %s", schedule.id, message)
    return None


_TICK = timedelta(microseconds=1)


def save(schedule, changes):
    """Apply `changes` (field → value) after checking them together; the field errors, or
    {} once saved. A new spec, or a resume, counts fire times from now: a paused schedule
    owes nothing for the time it was paused."""
    before = (schedule.cron, schedule.interval_s, schedule.timezone, schedule.paused)
    for field, value in changes.items():
        setattr(schedule, field, value)
    errors = problems(spec_of(schedule))
    if not schedule.name.strip():
        errors["name"] = ["Give the schedule a name."]
    elif (
        Schedule.objects.filter(workflow=schedule.workflow, name=schedule.name)
        .exclude(id=schedule.id)
        .exists()
    ):
        errors["name"] = ["This workflow has a schedule of this name already."]
    if not isinstance(schedule.input, dict):
        errors["input"] = ["Must be a JSON object."]
    if errors:
        return errors
    after = (schedule.cron, schedule.interval_s, schedule.timezone, schedule.paused)
    created = schedule.pk is None
    if schedule.pk is None:
        schedule.created_at = timezone.now()
    if schedule.pk is None or after != before:
        schedule.next_fire_at = first_fire_time(schedule)
        schedule.buffered_for = None
    schedule.save()
    record_save("schedule", schedule.workspace, schedule, created, changes)
    return {}


def delete(schedule):
    """Delete a schedule (its runs stay)."""
    delete_recorded("schedule", schedule.workspace, schedule)
