"""`/api/v1/runs/<id>/events/<name>`, `.../approve`, `.../reject`: resume a run's waits.

An event's JSON body becomes the output of every step of the run waiting for it; an
approval or rejection decides the run's approval step (named by `step` when it has
several), as the key's role allows (runner/waits.py). 409 when nothing waits for it.
"""

from ninja import Body, Field, Path, Router

from core.api.errors import ApiError
from core.api.parser import StrictParser
from core.api.runs import get_run
from core.api.schemas import ERRORS, RunOut, Strict
from core.api.serialize import run_summary, secret_values
from runner import launch, waits
from runner.models import StepRun
from runner.states import StepStatus

router = Router(tags=["runs"])
EVENT_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


class EventOut(Strict):
    run: RunOut
    resumed: list[str] = Field(description="The keys of the steps the event resumed")


@router.post(
    "/{run_id}/events/{name}",
    response={200: EventOut, **ERRORS},
    summary="Send an event to a run",
    description="The JSON body (any JSON value; empty: null) becomes the output of the "
    "run's steps waiting for this event. 409 when none is waiting for it (an event sent "
    "before its step waits is not kept: send it again).",
    operation_id="sendRunEvent",
)
def send_event(request, run_id: int, name: str = Path(..., pattern=EVENT_NAME)):
    run = get_run(request.workspace, run_id)
    payload = StrictParser().parse_body(request) if request.body else None
    resumed = launch.deliver_event(run.id, name, payload)
    return {"run": _summary(request, run.id), "resumed": resumed}


class DecisionIn(Strict):
    step: str | None = Field(
        None, max_length=63, description="The approval step's key; needed when several wait"
    )
    comment: str = Field("", max_length=2000)


class DecisionOut(Strict):
    run: RunOut
    step: str


def _decide(request, run_id, payload, approved):
    run = get_run(request.workspace, run_id)
    waiting = StepRun.objects.filter(run=run, status=StepStatus.WAITING, kind="action")
    if payload.step:
        waiting = waiting.filter(key=payload.step)
    roles = [w for w in waiting.values_list("waiting_for", flat=True) if waits.approval_role(w)]
    if len(roles) == 1 and not waits.may_decide(roles[0], request.role):
        needed = waits.approval_role(roles[0])
        raise ApiError(403, f"This API key is a {request.role} key; this approval needs {needed}")
    key = launch.decide_approval(
        run.id, payload.step, approved=approved, by=f"API key {request.auth.name}",
        comment=payload.comment,
    )  # fmt: skip
    return {"run": _summary(request, run.id), "step": key}


@router.post(
    "/{run_id}/approve",
    response={200: DecisionOut, **ERRORS},
    summary="Approve a run's waiting approval step",
    description="Its output becomes `{approved: true, by, comment}`. 403 "
    "when the key's role is below the step's `role`; 409 when no approval waits.",
    operation_id="approveRun",
)
def approve(request, run_id: int, payload: DecisionIn = Body(default_factory=DecisionIn)):
    return _decide(request, run_id, payload, True)


@router.post(
    "/{run_id}/reject",
    response={200: DecisionOut, **ERRORS},
    summary="Reject a run's waiting approval step",
    description="Its output becomes `{approved: false, by, comment}`; the "
    "run goes on (a later step's `when` reads `steps.<key>.output.approved`).",
    operation_id="rejectRun",
)
def reject(request, run_id: int, payload: DecisionIn = Body(default_factory=DecisionIn)):
    return _decide(request, run_id, payload, False)


def _summary(request, run_id):
    return run_summary(get_run(request.workspace, run_id), secret_values(request.workspace))
