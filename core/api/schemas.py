"""The shapes of the API's requests and answers; the OpenAPI document is generated from them."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from runner.states import AttemptStatus, RunStatus, StepKind, StepStatus

JSON_OBJECT = dict[str, Any]


class Strict(Schema):
    """A request body that refuses unknown fields: a typo is a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = Field(
        default_factory=dict, description="Messages per field path, e.g. `input.to`"
    )


class ErrorOut(Schema):
    error: ErrorDetail


# Every operation that changes something: a viewer key gets 403.
ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 422, 429)}
READ_ERRORS = {code: ErrorOut for code in (401, 404, 422, 429)}


class RunIn(Strict):
    """What to run; an empty body means `{"input": {}}`."""

    input: JSON_OBJECT = Field(default_factory=dict, description="The run's input")
    wait: float | None = Field(
        None,
        ge=0,
        le=30,
        description="Seconds to wait for the run to end: 200 when it ended, else 202",
    )
    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="A version number; the latest when omitted"
    )


class RerunIn(Strict):
    """How to rerun; an empty body means from the start, pinned, with the original input."""

    from_: Literal["start", "failed"] = Field(
        "start", alias="from", description="From the start, or from the failed step"
    )
    version: Literal["pinned", "latest"] = "pinned"
    input: JSON_OBJECT | None = Field(None, description="A new input; the original when omitted")
    resolve_original: bool = Field(
        True, description="Mark this run resolved when the rerun succeeds"
    )
    wait: float | None = Field(None, ge=0, le=30)


class AttemptOut(Schema):
    number: int
    status: AttemptStatus
    scheduled_for: datetime
    started_at: datetime | None
    ended_at: datetime | None
    duration_ms: float | None
    output: Any = None
    error: JSON_OBJECT | None
    log: str = Field(
        "", description="What the action logged during the attempt: its last lines, masked"
    )
    retry_decision: JSON_OBJECT | None
    worker: str


class ItemsSummaryOut(Schema):
    total: int
    counts: dict[StepStatus, int] = Field(description="How many items are in each status")
    url: str = Field(description="The items, a page at a time (`listRunStepItems`)")


class StepOut(Schema):
    key: str
    kind: StepKind
    status: StepStatus
    type: str = Field(
        description="action; switch, sleep, event, approval (the engine's: no action); or "
        "workflow (a sub-workflow step: its child run is in `child_run`)"
    )
    wake_at: datetime | None = Field(
        None, description="a waiting step: when a sleep ends or a wait times out"
    )
    waiting_for: str = Field(
        "",
        description='a waiting step: "sleep", "event:<name>" or "approval:<role>"; or '
        '"admission": its run is queued by its workflow\'s limits (`wake_at`: it asks again)',
    )
    action: str | None
    child_run: int | None = Field(None, description="A sub-workflow step's child run")
    handled: bool = Field(description="failed, and an on_error route took the failure")
    route: JSON_OBJECT | None = Field(
        description='the route taken: {"route": index, "match": word, "next": [steps]}'
    )
    why: str = Field(
        description="why it was skipped, which case a switch chose, or the route taken"
    )
    input: Any = None
    output: Any = None
    error: JSON_OBJECT | None
    attempt_count: int
    item_index: int | None = Field(
        None, description="an item's compensation: the for-each item's position in its list"
    )
    items: ItemsSummaryOut | None = Field(
        None, description="A for-each step: its items by status; read them a page at a time"
    )
    reused_from_run: int | None
    started_at: datetime | None
    ended_at: datetime | None
    attempts: list[AttemptOut]


class ItemOut(Schema):
    index: int = Field(description="The item's position in the for-each list")
    item: Any = Field(None, description="The list's element (`{{ item }}`)")
    status: StepStatus
    input: Any = None
    output: Any = None
    error: JSON_OBJECT | None
    attempt_count: int
    reused_from_run: int | None = Field(description="A rerun reused this item's output")
    compensation: StepStatus | None = Field(
        description="The status of the compensation that undoes this item, if one started"
    )
    started_at: datetime | None
    ended_at: datetime | None
    attempts: list[AttemptOut]


class ItemPage(Schema):
    items: list[ItemOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")
    total: int = Field(description="Every item of the step, whatever the filter")
    counts: dict[StepStatus, int]


class RunOut(Schema):
    id: int
    status: RunStatus
    workflow: str | None = Field(description="The workflow's slug, for a workflow run")
    workflow_version: int | None
    action: str | None = Field(description="The action's name, for a run of one action")
    trigger: str
    input: JSON_OBJECT
    output: Any = None
    error: JSON_OBJECT | None
    rerun_of: int | None
    needs_review: bool
    keep: bool = Field(description="Kept for ever: retention never deletes it")
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    deadline: datetime | None = Field(
        description="When the definition's run_timeout_s runs out; the run is then stopped"
    )
    timed_out: bool = Field(description="Stopped at its deadline (error code run_timeout)")


class ParentOut(Schema):
    run: int
    step: str | None = Field(description="The parent's sub-workflow step that waits for it")
    status: RunStatus


class ChildOut(Schema):
    run: int
    step: str | None = Field(description="The sub-workflow step that started it")
    workflow: str | None
    status: RunStatus


class RunDetailOut(RunOut):
    parent: ParentOut | None = Field(description="The run whose sub-workflow step started it")
    children: list[ChildOut] = Field(description="Runs its sub-workflow steps started")
    steps: list[StepOut]


class RunPage(Schema):
    items: list[RunOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page")
