"""`/api/v1/failures`: the failures inbox (failed, compensated and flagged runs) as the
failures page shows it, and resolving (with a note) or reopening runs of it."""

from datetime import datetime
from typing import Literal

from django.http import Http404
from ninja import Field, Query, Router, Schema

from core.api.auth import require_editor
from core.api.schemas import ERRORS, READ_ERRORS, RunOut, Strict
from core.api.serialize import run_summary, secret_values
from core.api.workflows import SLUG
from runner import inbox
from runner.inbox import MAX_BULK
from runner.states import RunStatus

router = Router(tags=["failures"])
RunIds = list[int]


class FailureOut(RunOut):
    resolved_at: datetime | None
    resolution_note: str


class FailurePage(Schema):
    items: list[FailureOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page")


class ResolveIn(Strict):
    runs: list[int] = Field(min_length=1, max_length=MAX_BULK, description="Run ids")
    note: str = Field(
        min_length=1,
        max_length=2000,
        pattern=r"\S",
        description="How it was resolved; the note stays with the runs",
    )


class ReopenIn(Strict):
    runs: list[int] = Field(min_length=1, max_length=MAX_BULK, description="Run ids")


class ChangedOut(Schema):
    items: list[FailureOut]


def failure_out(run, secrets):
    return {
        **run_summary(run, secrets),
        "resolved_at": run.resolved_at,
        "resolution_note": run.resolution_note,
    }


@router.get(
    "",
    response={200: FailurePage, **READ_ERRORS},
    summary="The failures inbox, newest first",
    description="Unresolved runs by default (`state=open`); `kind` narrows to failed, "
    "compensated or flagged (`review`) runs, `error` to one error message.",
    operation_id="listFailures",
)
def list_failures(
    request,
    state: Literal["open", "resolved", "all"] = Query("open"),
    kind: Literal["failed", "compensated", "review"] | None = Query(None),
    workflow: str | None = Query(None, pattern=SLUG.pattern, description="A workflow's slug"),
    error: str | None = Query(None, max_length=500, description="The error message, exactly"),
    cursor: str | None = Query(None, pattern=r"^[0-9]{1,18}$"),
    limit: int = Query(50, ge=1, le=100),
):
    runs = inbox.failures(request.workspace).select_related(
        "workflow", "workflow_version", "action"
    )
    if state != "all":
        runs = runs.filter(resolved_at__isnull=state == "open")
    if kind == "review":
        runs = runs.filter(needs_review=True)
    elif kind:
        runs = runs.filter(status=RunStatus(kind))
    if workflow:
        runs = runs.filter(workflow__slug=workflow)
    if error:
        runs = runs.filter(error__message=error)
    if cursor:
        runs = runs.filter(id__lt=int(cursor))
    page = list(runs.order_by("-id")[: limit + 1])
    more, page = len(page) > limit, page[:limit]
    secrets = secret_values(request.workspace) if page else ()
    return {
        "items": [failure_out(run, secrets) for run in page],
        "next_cursor": str(page[-1].id) if more else None,
    }


@router.post(
    "/resolve",
    response={200: ChangedOut, **ERRORS},
    summary="Resolve failures",
    description="Marks the runs resolved with the note; 404 when one of them is not a "
    "failure of this workspace (then none changes).",
    operation_id="resolveFailures",
)
def resolve(request, payload: ResolveIn):
    require_editor(request)
    ids = list(_failures(request.workspace, payload.runs).values_list("id", flat=True))
    inbox.resolve(request.workspace, ids, payload.note.strip())
    return _changed(request.workspace, payload.runs)


@router.post(
    "/reopen",
    response={200: ChangedOut, **ERRORS},
    summary="Reopen resolved failures",
    description="Back into the inbox, without their resolution note; 404 when one of them "
    "is not a failure of this workspace (then none changes).",
    operation_id="reopenFailures",
)
def reopen(request, payload: ReopenIn):
    require_editor(request)
    ids = list(_failures(request.workspace, payload.runs).values_list("id", flat=True))
    inbox.reopen(request.workspace, ids)
    return _changed(request.workspace, payload.runs)


def _failures(workspace, ids):
    """The workspace's failures with these ids; 404 unless every id is one."""
    wanted = {run_id for run_id in ids if 0 < run_id < 2**63}
    runs = inbox.failures(workspace).filter(id__in=wanted)
    if len(wanted) != len(set(ids)) or runs.count() != len(wanted):
        raise Http404
    return runs


def _changed(workspace, ids):
    runs = (
        inbox.failures(workspace)
        .filter(id__in=ids)
        .select_related("workflow", "workflow_version", "action")
    )
    secrets = secret_values(workspace)
    return {"items": [failure_out(run, secrets) for run in runs.order_by("-id")]}
