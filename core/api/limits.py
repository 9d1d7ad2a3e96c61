"""`/api/v1/limits`: a workspace's concurrency and rate limits on its actions
(runner/action_limits.py; a workflow's own run limits are in its definition)."""

from datetime import datetime

from ninja import Field, Router, Schema

from core.api.auth import require_editor
from core.api.errors import ApiError
from core.api.lookup import one_or_404
from core.api.schemas import ERRORS, READ_ERRORS, Strict
from runner import action_limits
from runner.models import ActionLimit, KeyPart

router = Router(tags=["limits"])
NAME = r"^[^\x00]*$"


class LimitIn(Strict):
    """A new limit; on PATCH, only the fields sent change."""

    name: str = Field(..., min_length=1, max_length=100, pattern=NAME)
    action: str = Field(..., min_length=1, max_length=200, pattern=NAME,
                        description="The action's name, e.g. http.request")  # fmt: skip
    key: str = Field(
        "", max_length=200, pattern=NAME,
        description="Optional: one reference into the step's input, e.g. {{ input.url }}; "
        "each value has limits of its own",
    )  # fmt: skip
    key_part: KeyPart = Field(KeyPart.VALUE, description="value, or host: the URL's host")
    max_concurrent: int | None = Field(None, ge=1, le=action_limits.MAX_CONCURRENT,
                                       description="At most this many attempts at once")  # fmt: skip
    rate_per_s: float | None = Field(None, ge=0.001, le=action_limits.MAX_RATE,
                                     description="At most this many started per second")  # fmt: skip
    burst: int = Field(1, ge=1, le=action_limits.MAX_BURST,
                       description="How many may start at once within the rate")  # fmt: skip


class LimitPatch(LimitIn):
    name: str | None = Field(None, min_length=1, max_length=100, pattern=NAME)
    action: str | None = Field(None, min_length=1, max_length=200, pattern=NAME)


class LimitOut(Schema):
    id: int
    name: str
    action: str
    key: str
    key_part: str
    max_concurrent: int | None
    rate_per_s: float | None
    burst: int
    created_at: datetime


def limit_out(limit):
    return {field: getattr(limit, field) for field in LimitOut.model_fields}


def _save(limit, changes):
    if errors := action_limits.save(limit, changes):
        raise ApiError(422, "The limit is invalid", fields=errors)
    return limit_out(limit)


def _get(request, limit_id):
    return one_or_404(ActionLimit.objects.filter(workspace=request.workspace), limit_id)


@router.get("", response={200: list[LimitOut], **READ_ERRORS},
            operation_id="listLimits", summary="The workspace's limits on actions")  # fmt: skip
def list_limits(request):
    return [limit_out(limit) for limit in ActionLimit.objects.filter(workspace=request.workspace)]


@router.post(
    "", response={201: LimitOut, **ERRORS}, operation_id="createLimit",
    summary="Limit how many attempts of an action run at once, or start per second",
    description="Steps of the action wait while the limit is reached, without a worker, "
    "shown as throttled in their run's timeline.",
)  # fmt: skip
def create_limit(request, payload: LimitIn):
    require_editor(request)
    return 201, _save(ActionLimit(workspace=request.workspace), payload.model_dump())


@router.get("/{limit_id}", response={200: LimitOut, **READ_ERRORS}, operation_id="getLimit")
def get_limit(request, limit_id: int):
    return limit_out(_get(request, limit_id))


@router.patch("/{limit_id}", response={200: LimitOut, **ERRORS}, operation_id="updateLimit",
              summary="Change a limit")  # fmt: skip
def update_limit(request, limit_id: int, payload: LimitPatch):
    require_editor(request)
    limit = _get(request, limit_id)
    changes = payload.model_dump(exclude_unset=True)
    for field in ("name", "action"):
        if changes.get(field) is None:
            changes.pop(field, None)
    return _save(limit, changes)


@router.delete("/{limit_id}", response={204: None, **ERRORS}, operation_id="deleteLimit")
def delete_limit(request, limit_id: int):
    require_editor(request)
    limit = _get(request, limit_id)
    action_limits.delete(limit)
    return 204, None
