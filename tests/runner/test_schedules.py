"""Schedules: fire times (pure), exactly one run per time, catch-up, backfill, and each
overlap policy observed with a real worker whose sweeper fires the schedule."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from builder.definition import validate
from builder.models import Workflow
from runner import schedules
from runner.models import Overlap, Run, Schedule
from runner.schedule_times import Spec, next_times, problems
from runner.sweeper import live_workers
from tests import servers
from tests.runs import wait_for

# In the future, so the test worker's own sweeper (firing at the real time) never fires them.
T0 = datetime(2036, 6, 1, 12, 0, tzinfo=UTC)


def berlin(*args):
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


# -- When a schedule fires (pure) --------------------------------------------------------


def test_a_time_skipped_by_spring_forward_fires_once_right_after_the_gap():
    spec = Spec(cron="30 2 * * *", timezone="Europe/Berlin")
    times = next_times(spec, berlin(2026, 3, 27, 12, 0), 3)
    assert times == [
        berlin(2026, 3, 28, 2, 30),
        berlin(2026, 3, 29, 3, 0),  # 02:30 does not exist that night: once, at 03:00
        berlin(2026, 3, 30, 2, 30),
    ]


def test_a_time_repeated_by_fall_back_fires_once():
    spec = Spec(cron="30 2 * * *", timezone="Europe/Berlin")
    times = next_times(spec, berlin(2026, 10, 24, 12, 0), 2)
    assert [t.astimezone(UTC).hour for t in times] == [0, 1]  # 02:30 CEST, then 02:30 CET
    assert times[1] - times[0] == timedelta(hours=25)


def test_aliases_intervals_and_bad_specs():
    assert next_times(Spec(cron="@hourly"), T0, 2) == [
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=2),
    ]
    every_7s = Spec(interval_s=7, anchor=T0)
    assert next_times(every_7s, T0 + timedelta(seconds=10), 2) == [
        T0 + timedelta(seconds=14),
        T0 + timedelta(seconds=21),
    ]
    assert "cron" in problems(Spec(cron="61 * * * *"))
    assert "cron" in problems(Spec(cron="* * *"))
    assert "cron" in problems(Spec(cron="@hourly", interval_s=5))
    assert "interval_s" in problems(Spec(interval_s=0))
    assert "interval_s" in problems(Spec(interval_s=10**30))  # no timedelta holds it
    assert "timezone" in problems(Spec(cron="@daily", timezone="Mars/Olympus"))
    assert problems(Spec(cron="*/5 9-17 * * mon-fri", timezone="America/New_York")) == {}


# -- Firing (the sweeper's part, at chosen moments) ---------------------------------------


@pytest.fixture
def workflow(workspace):
    workflow = Workflow.objects.create(workspace=workspace, slug="nightly", name="Nightly")
    steps = [{"key": "a", "action": "debug.echo", "input": {"at": "{{ run.scheduled_for }}"}}]
    workflow.publish(validate({"steps": steps}, workspace))
    return workflow


def every(workflow, seconds, anchor=T0, **fields):
    schedule = Schedule.objects.create(
        workspace=workflow.workspace, workflow=workflow, name=f"every {seconds}s",
        interval_s=seconds, **fields,
    )  # fmt: skip
    # Intervals count from the creation time: pin it for exact fire times.
    Schedule.objects.filter(id=schedule.id).update(
        created_at=anchor, next_fire_at=anchor + timedelta(seconds=seconds)
    )
    schedule.refresh_from_db()
    return schedule


def fired(schedule):
    return sorted(schedule.runs.values_list("scheduled_for", flat=True))


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_make_exactly_one_run_per_fire_time(worker, workflow):
    schedule = every(workflow, 10, overlap=Overlap.ALLOW_ALL)
    moments = [T0 + timedelta(seconds=s) for s in range(5, 125, 5)]

    def sweeper():
        for now in moments:
            schedules.fire_due(now)
        connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fired(schedule) == [T0 + timedelta(seconds=s) for s in range(10, 130, 10)]
    assert Run.objects.filter(schedule=schedule, trigger="schedule").count() == 12
    for run in schedule.runs.all():  # the worker finishes them before the tables are emptied
        wait_for(run)


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_sweeping_fire_each_time_exactly_once(worker, workflow):
    # Given a second worker process beside the session's: two sweepers, as on two hosts
    other = servers.WorkerProcess(database_url=servers.test_database_url(), threads=2)
    other.start()
    try:
        deadline = time.time() + 30
        while live_workers().values("pid").distinct().count() < 2:
            assert time.time() < deadline, "the second worker never beat"
            time.sleep(0.1)
        # When a schedule fires every 2 s, at real times, for 9 s
        start = timezone.now().replace(microsecond=0)
        schedule = every(workflow, 2, anchor=start, overlap=Overlap.ALLOW_ALL)
        time.sleep((start + timedelta(seconds=9) - timezone.now()).total_seconds())
        Schedule.objects.filter(id=schedule.id).update(paused=True)
        assert live_workers().values("pid").distinct().count() >= 2  # both swept throughout
    finally:
        other.stop()
    # Then each fire time has exactly one run, and no time was missed
    times = fired(schedule)
    assert len(times) >= 3
    assert times == [start + timedelta(seconds=2 * n) for n in range(1, len(times) + 1)]
    assert Run.objects.filter(schedule=schedule).count() == len(times)
    assert {wait_for(run).status for run in schedule.runs.all()} == {"succeeded"}


@pytest.mark.django_db  # runs inside the test's transaction: no worker picks them up
def test_catch_up_fires_the_missed_times_inside_the_window_and_none_outside(workflow):
    schedule = every(workflow, 10, overlap=Overlap.ALLOW_ALL, catchup_window_s=60)
    # Nothing swept for five minutes (Brickwork was down), then a sweeper comes back
    schedules.fire_due(T0 + timedelta(seconds=300))
    assert fired(schedule) == [T0 + timedelta(seconds=s) for s in range(240, 310, 10)]
    schedule.refresh_from_db()
    assert schedule.missed == 23  # 10 s … 230 s
    assert schedule.next_fire_at == T0 + timedelta(seconds=310)


@pytest.mark.django_db  # runs inside the test's transaction: no worker picks them up
def test_backfill_of_a_range_runs_each_time_once(workflow):
    schedule = every(workflow, 10, paused=True)
    runs = schedules.backfill(schedule, T0, T0 + timedelta(seconds=60))
    assert len(runs) == 6
    assert schedules.backfill(schedule, T0, T0 + timedelta(seconds=60)) == []
    assert fired(schedule) == [T0 + timedelta(seconds=s) for s in range(10, 70, 10)]


@pytest.mark.django_db  # runs inside the test's transaction: no worker picks them up
def test_a_paused_schedule_does_not_fire_and_a_bad_input_is_said(workflow):
    paused = every(workflow, 10, paused=True)
    schedules.fire_due(T0 + timedelta(seconds=30))
    assert fired(paused) == []
    schema = {"type": "object", "required": ["day"], "properties": {"day": {"type": "string"}}}
    workflow.publish(
        validate(
            {"input_schema": schema, "steps": [{"key": "a", "action": "debug.echo"}]},
            workflow.workspace,
        )
    )
    strict = every(workflow, 20)
    schedules.fire_due(T0 + timedelta(seconds=20))
    strict.refresh_from_db()
    assert fired(strict) == [] and "day" in strict.last_error


@pytest.mark.django_db  # runs inside the test's transaction: no worker picks them up
def test_an_archived_workflow_is_not_started_by_its_schedule(workflow):
    schedule = every(workflow, 10)
    workflow.set_archived(True)
    schedules.fire_due(T0 + timedelta(seconds=10))
    schedule.refresh_from_db()
    assert fired(schedule) == [] and "archived" in schedule.last_error
    workflow.set_archived(False)
    schedules.fire_due(T0 + timedelta(seconds=20))
    assert fired(schedule) == [T0 + timedelta(seconds=20)]


# -- Overlap policies, with a real worker and its sweeper ---------------------------------


@pytest.fixture
def slow_workflow(workspace):
    workflow = Workflow.objects.create(workspace=workspace, slug="slow", name="Slow")
    steps = [
        {"key": "work", "action": "debug.sleep", "input": {"ms": 1800}},
        {"key": "when", "action": "debug.echo", "input": {"at": "{{ run.scheduled_for }}"}, "after": ["work"]},
    ]  # fmt: skip
    workflow.publish(validate({"steps": steps}, workspace))
    return workflow


def observe(workflow, overlap, seconds=6.5):
    """A schedule every second for `seconds`, then paused; its runs once all ended."""
    import time

    from django.utils import timezone

    now = timezone.now()
    schedule = Schedule.objects.create(
        workspace=workflow.workspace, workflow=workflow, name=overlap, interval_s=1,
        overlap=overlap, next_fire_at=now + timedelta(seconds=1),
    )  # fmt: skip
    time.sleep(seconds)
    Schedule.objects.filter(id=schedule.id).update(paused=True)
    # A sweeper pass that read the schedule just before the pause may still fire it once:
    # its run (which may cancel or buffer behind the others) belongs to the list too.
    time.sleep(1.5)
    runs = [wait_for(run, timeout=30) for run in schedule.runs.order_by("scheduled_for")]
    schedule.refresh_from_db()
    return schedule, runs


def overlapping(runs):
    spans = sorted((r.created_at, r.ended_at) for r in runs)
    return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))


@pytest.mark.django_db(transaction=True)
def test_skip_never_overlaps_and_counts_what_it_skipped(worker, slow_workflow):
    schedule, runs = observe(slow_workflow, Overlap.SKIP, seconds=9)
    assert 2 <= len(runs) <= 5 and not overlapping(runs)
    assert all(r.status == "succeeded" for r in runs) and schedule.skipped >= 2
    # The step saw its own fire time
    last = runs[-1]
    when = last.steps.get(key="when").output["at"]
    assert when == last.scheduled_for.isoformat()


@pytest.mark.django_db(transaction=True)
def test_buffer_one_runs_the_waiting_time_after_the_previous_run(worker, slow_workflow):
    schedule, runs = observe(slow_workflow, Overlap.BUFFER_ONE)
    assert len(runs) >= 3 and not overlapping(runs)
    assert all(r.status == "succeeded" for r in runs)
    # Each buffered run starts as soon as the sweeper sees the previous one end
    gaps = [
        (b.created_at - a.ended_at).total_seconds() for a, b in zip(runs, runs[1:], strict=False)
    ]
    assert max(gaps) < 2.5, gaps


@pytest.mark.django_db(transaction=True)
def test_allow_all_runs_alongside(worker, slow_workflow):
    schedule, runs = observe(slow_workflow, Overlap.ALLOW_ALL)
    assert len(runs) >= 5 and overlapping(runs)
    assert len({r.scheduled_for for r in runs}) == len(runs)


@pytest.mark.django_db(transaction=True)
def test_cancel_previous_cancels_the_running_one(worker, slow_workflow):
    schedule, runs = observe(slow_workflow, Overlap.CANCEL_PREVIOUS)
    assert len(runs) >= 4
    assert {r.status for r in runs[:-1]} == {"cancelled"}
    assert runs[-1].status == "succeeded"
    assert "cancel_previous" in runs[0].error["message"]
