"""`/api/v1/retention`: how long the workspace keeps runs, and what that deletes
(runner/pruning.py); the settings page's twin."""

from ninja import Field, Router

from core.api.auth import require
from core.api.schemas import ERRORS, READ_ERRORS, Strict
from core.models import Role
from runner import pruning

router = Router(tags=["retention"])
DAYS = {"ge": 1, "le": pruning.MAX_DAYS}


class RetentionIn(Strict):
    keep_runs_days: int = Field(30, **DAYS, description="Succeeded and cancelled runs")
    keep_failed_runs_days: int = Field(
        90, **DAYS, description="Failed, compensated and needs-review runs"
    )


class RetentionOut(RetentionIn):
    runs: int = Field(description="Runs stored")
    attempts: int = Field(description="Attempts stored")
    kept: int = Field(description="Runs marked keep: never deleted")
    due_runs: int = Field(description="Runs the policy lets go now")
    due_attempts: int
    next_pass: int = Field(description="Runs the sweeper's next batch deletes")


def retention_out(workspace):
    return {
        "keep_runs_days": workspace.keep_runs_days,
        "keep_failed_runs_days": workspace.keep_failed_runs_days,
        **pruning.figures(workspace),
    }


@router.get(
    "", response={200: RetentionOut, **READ_ERRORS},
    operation_id="getRetention", summary="The retention policy and what it deletes",
)  # fmt: skip
def get_retention(request):
    return retention_out(request.workspace)


@router.put(
    "", response={200: RetentionOut, **ERRORS},
    operation_id="setRetention", summary="Change the retention policy (owner keys)",
)  # fmt: skip
def set_retention(request, payload: RetentionIn):
    require(request, Role.OWNER)
    pruning.set_policy(request.workspace, **payload.model_dump())
    return retention_out(request.workspace)
