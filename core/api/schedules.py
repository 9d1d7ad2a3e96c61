"""`/api/v1/workflows/<slug>/schedules`: runs of a workflow on a clock (runner/schedules.py)."""

from datetime import datetime
from typing import Any

from django.utils import timezone
from ninja import Field, Router, Schema

from core.api.auth import require_editor
from core.api.errors import ApiError
from core.api.lookup import one_or_404
from core.api.schemas import ERRORS, READ_ERRORS, Strict
from core.api.workflows import get_workflow
from runner import schedules
from runner.models import Overlap, Schedule
from runner.schedule_times import MAX_INTERVAL_S, MIN_INTERVAL_S, next_times

router = Router(tags=["schedules"])
PREVIEW = 5


class ScheduleIn(Strict):
    """A new schedule; on PATCH, only the fields sent change."""

    name: str = Field(..., min_length=1, max_length=100, pattern=r"^[^\x00]*$")
    cron: str = Field(
        "",
        max_length=100,
        description='5 fields ("*/15 9-17 * * mon-fri") or an alias (@hourly, @daily, '
        "@weekly, @monthly, @yearly); or give `interval_s`",
    )
    interval_s: int | None = Field(None, ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S)
    timezone: str = Field("UTC", max_length=64, description="An IANA name: Europe/Berlin")
    input: dict[str, Any] = Field(default_factory=dict)
    overlap: Overlap = Field(
        Overlap.SKIP, description="While the previous run is going: skip, buffer_one, "
        "allow_all or cancel_previous",
    )  # fmt: skip
    catchup_window_s: int = Field(
        3600, ge=0, le=366 * 86400, description="Missed fire times this recent still fire"
    )
    paused: bool = False


class SchedulePatch(ScheduleIn):
    name: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[^\x00]*$")


class ScheduleOut(Schema):
    id: int
    workflow: str
    name: str
    cron: str
    interval_s: int | None
    timezone: str
    input: dict[str, Any]
    overlap: str
    catchup_window_s: int
    paused: bool
    next_fire_times: list[datetime] = Field(description="The next five, none while paused")
    last_fired_at: datetime | None
    last_error: str
    missed: int
    skipped: int
    created_at: datetime


class BackfillIn(Strict):
    start: datetime = Field(description="Fire times after this moment…")
    end: datetime = Field(description="…up to this one, at most 1,000 of them")
    overlap: Overlap = Overlap.ALLOW_ALL


class BackfillOut(Schema):
    runs: list[int]


def schedule_out(schedule):
    upcoming = [] if schedule.paused else next_times(schedules.spec_of(schedule), timezone.now())
    return {
        "id": schedule.id,
        "workflow": schedule.workflow.slug,
        "name": schedule.name,
        "cron": schedule.cron,
        "interval_s": schedule.interval_s,
        "timezone": schedule.timezone,
        "input": schedule.input,
        "overlap": schedule.overlap,
        "catchup_window_s": schedule.catchup_window_s,
        "paused": schedule.paused,
        "next_fire_times": upcoming[:PREVIEW],
        "last_fired_at": schedule.last_fired_at,
        "last_error": schedule.last_error,
        "missed": schedule.missed,
        "skipped": schedule.skipped,
        "created_at": schedule.created_at,
    }


def get_schedule(workspace, slug, schedule_id):
    workflow = get_workflow(workspace, slug)
    return one_or_404(workflow.schedules.select_related("workflow"), schedule_id)


def _save(schedule, changes):
    if errors := schedules.save(schedule, changes):
        raise ApiError(422, "The schedule's settings do not fit together", fields=errors)
    return schedule_out(schedule)


@router.get(
    "/{slug}/schedules", response={200: list[ScheduleOut], **READ_ERRORS},
    operation_id="listSchedules", summary="A workflow's schedules",
)  # fmt: skip
def list_schedules(request, slug: str):
    workflow = get_workflow(request.workspace, slug)
    return [schedule_out(s) for s in workflow.schedules.select_related("workflow")]


@router.post(
    "/{slug}/schedules", response={201: ScheduleOut, **ERRORS},
    operation_id="createSchedule", summary="Run a workflow on a clock",
)  # fmt: skip
def create_schedule(request, slug: str, payload: ScheduleIn):
    require_editor(request)
    workflow = get_workflow(request.workspace, slug)
    schedule = Schedule(workspace=request.workspace, workflow=workflow)
    return 201, _save(schedule, payload.model_dump())


@router.get(
    "/{slug}/schedules/{schedule_id}", response={200: ScheduleOut, **READ_ERRORS},
    operation_id="getSchedule",
)  # fmt: skip
def get_one(request, slug: str, schedule_id: int):
    return schedule_out(get_schedule(request.workspace, slug, schedule_id))


@router.patch(
    "/{slug}/schedules/{schedule_id}", response={200: ScheduleOut, **ERRORS},
    operation_id="updateSchedule", summary="Change, pause or resume a schedule",
)  # fmt: skip
def update_schedule(request, slug: str, schedule_id: int, payload: SchedulePatch):
    require_editor(request)
    schedule = get_schedule(request.workspace, slug, schedule_id)
    changes = payload.model_dump(exclude_unset=True)
    if changes.get("name") is None:
        changes.pop("name", None)
    return _save(schedule, changes)


@router.delete(
    "/{slug}/schedules/{schedule_id}", response={204: None, **ERRORS},
    operation_id="deleteSchedule",
)  # fmt: skip
def delete_schedule(request, slug: str, schedule_id: int):
    require_editor(request)
    schedules.delete(get_schedule(request.workspace, slug, schedule_id))
    return 204, None


@router.post(
    "/{slug}/schedules/{schedule_id}/backfill", response={202: BackfillOut, **ERRORS},
    operation_id="backfillSchedule", summary="Run the fire times of a past range",
    description="One run per fire time in (start, end] that has none yet, as if the "
    "schedule had fired then (`run.scheduled_for` is the fire time).",
)  # fmt: skip
def backfill_schedule(request, slug: str, schedule_id: int, payload: BackfillIn):
    require_editor(request)
    schedule = get_schedule(request.workspace, slug, schedule_id)
    if payload.start.tzinfo is None or payload.end.tzinfo is None:
        raise ApiError(422, "Give times with a UTC offset", fields={"start": ["needs an offset"]})
    if payload.end <= payload.start:
        raise ApiError(422, "The range is empty", fields={"end": ["must be after start"]})
    runs = schedules.backfill(schedule, payload.start, payload.end, payload.overlap)
    return 202, {"runs": [run.id for run in runs]}
