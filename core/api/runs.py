"""`/api/v1/runs`: list and read runs of the workspace, rerun them, cancel them, and
resume their waits: send an event, approve or reject."""

from datetime import UTC, datetime

from ninja import Body, Field, Header, Query, Router

from core.api.auth import require_editor
from core.api.errors import ApiError
from core.api.launch import launch
from core.api.lookup import one_or_404
from core.api.schemas import (
    ERRORS,
    READ_ERRORS,
    ItemPage,
    RerunIn,
    RunDetailOut,
    RunOut,
    RunPage,
    Strict,
)
from core.api.serialize import (
    item_page,
    run_detail,
    run_summary,
    runs_of,
    secret_values,
)
from core.api.workflows import SLUG
from runner import action_runs, for_each, pruning, reruns
from runner.launch import cancel_run
from runner.states import RunStatus, StepKind, StepStatus
from runner.timeline import ItemCounts, item_counts

router = Router(tags=["runs"])


def get_run(workspace, run_id):
    """The workspace's run with this id; 404 for another workspace's (it does not exist here)."""
    return one_or_404(runs_of(workspace), run_id)


@router.get(
    "",
    response={200: RunPage, **READ_ERRORS},
    summary="List runs, newest first",
    description="Pages of at most `limit` runs; pass `next_cursor` back as `cursor`.",
    operation_id="listRuns",
)
def list_runs(
    request,
    workflow: str | None = Query(None, pattern=SLUG.pattern, description="A workflow's slug"),
    status: RunStatus | None = Query(None),
    since: datetime | None = Query(None, description="Runs created at or after this time"),
    cursor: str | None = Query(None, pattern=r"^[0-9]{1,18}$"),
    limit: int = Query(50, ge=1, le=100),
):
    runs = runs_of(request.workspace).order_by("-id")
    if workflow:
        runs = runs.filter(workflow__slug=workflow)
    if status:
        runs = runs.filter(status=status)
    if since:
        runs = runs.filter(created_at__gte=_utc(since, "since"))
    if cursor:
        runs = runs.filter(id__lt=int(cursor))
    page = list(runs[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    secrets = secret_values(request.workspace) if page else ()
    return {
        "items": [run_summary(run, secrets) for run in page],
        "next_cursor": str(page[-1].id) if more else None,
    }


def _utc(moment, field):
    """PostgreSQL takes UTC offsets of at most 15 h, and no time before year 1 in UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ApiError(422, "The time is out of range", fields={field: ["out of range"]})


@router.get(
    "/{run_id}",
    response={200: RunDetailOut, **READ_ERRORS},
    summary="A run, its steps, attempts",
    operation_id="getRun",
)
def get(request, run_id: int):
    return run_detail(get_run(request.workspace, run_id), secret_values(request.workspace))


LIST_DATA = ("input", "output", "input_keys", "output_keys")


@router.get(
    "/{run_id}/steps/{key}/items",
    response={200: ItemPage, **READ_ERRORS},
    summary="A for-each step's items, a page at a time",
    description="In list order, at most `limit` a page; pass `next_cursor` back as "
    "`cursor`. `status=failed` lists the failures only. `total` and `counts` cover every "
    "item of the step. 404 when the run has no for-each step of that key.",
    operation_id="listRunStepItems",
)
def items(
    request,
    run_id: int,
    key: str,
    status: StepStatus | None = Query(None),
    cursor: str | None = Query(None, pattern=r"^[0-9]{1,9}$"),
    limit: int = Query(50, ge=1, le=200),
):
    # Neither the run's output nor the step's is read: either may hold every item's output.
    run = one_or_404(runs_of(request.workspace).defer(*LIST_DATA), run_id)
    steps = run.steps.filter(key=key, kind=StepKind.ACTION, parent__isnull=True)
    step = steps.only("id", "key", "run_id").first()
    if step is None or not for_each.is_for_each(run.step_spec(key)):
        raise ApiError(404, f"Run {run.id} has no for-each step {key[:100]!r}")
    after = int(cursor) if cursor else None
    secrets = secret_values(request.workspace)
    page = item_page(step, secrets, status=status, after=after, limit=limit)
    counts = item_counts(run.id).get(step.id, ItemCounts())
    return {**page, "total": counts.total, "counts": counts.by_status}


@router.post(
    "/{run_id}/rerun",
    response={200: RunOut, 202: RunOut, **ERRORS},
    summary="Rerun",
    description="A new run linked to this one: from the start, or from the failed step "
    "(succeeded outputs reused); on the pinned or the latest version; with the same or a "
    "new input. 409 when the run's state does not allow it.",
    operation_id="rerunRun",
)
def rerun(
    request,
    run_id: int,
    payload: RerunIn = Body(default_factory=RerunIn),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    require_editor(request)
    run = get_run(request.workspace, run_id)
    options = {"start_from": payload.from_, "version": payload.version, "input": payload.input}
    options["resolve_original"] = payload.resolve_original
    if run.action_id:
        return launch(request, payload, idempotency_key, lambda: action_runs.rerun(run, **options))
    return launch(request, payload, idempotency_key, lambda: reruns.rerun(run, **options))


@router.post(
    "/{run_id}/cancel",
    response={200: RunOut, **ERRORS},
    summary="Cancel",
    description="Stops new work; succeeded steps are compensated, then the run ends "
    "`cancelled`. 409 when the run has already ended.",
    operation_id="cancelRun",
)
def cancel(request, run_id: int):
    require_editor(request)
    run = get_run(request.workspace, run_id)
    cancel_run(run.id)
    return run_summary(get_run(request.workspace, run.id), secret_values(request.workspace))


class KeepIn(Strict):
    keep: bool = Field(True, description="true pins the run; false lets retention delete it")


@router.post(
    "/{run_id}/keep",
    response={200: RunOut, **ERRORS},
    summary="Keep a run for ever, or let it go",
    description="A kept run is never deleted by the workspace's retention policy. "
    '`{"keep": false}` makes it follow the policy again.',
    operation_id="keepRun",
)
def keep(request, run_id: int, payload: KeepIn = Body(default_factory=KeepIn)):
    require_editor(request)
    run = get_run(request.workspace, run_id)
    pruning.set_kept(run, payload.keep)
    return run_summary(run, secret_values(request.workspace))
