"""`/api/v1/audit`: the workspace's audit log, for owner keys only; the audit page's twin."""

from datetime import datetime
from typing import Any

from ninja import Field, Query, Router, Schema

from core import audit_log
from core.api.auth import require
from core.api.runs import _utc
from core.api.schemas import READ_ERRORS, ErrorOut
from core.models import Role

router = Router(tags=["audit"])


class ActorOut(Schema):
    kind: str = Field(description="user, api_key or system")
    name: str = Field(description="The username or the key's name when it acted")


class ObjectOut(Schema):
    type: str
    id: str
    label: str


class EntryOut(Schema):
    id: int
    at: datetime
    action: str = Field(description="A dotted verb, e.g. workflow.publish")
    actor: ActorOut
    ip: str | None
    user_agent: str
    object: ObjectOut
    data: dict[str, Any] = Field(description="Details; never a secret's value")


class EntryPage(Schema):
    items: list[EntryOut]
    next_cursor: str | None = Field(description="Pass back as `cursor` for older entries")


@router.get(
    "",
    response={200: EntryPage, 403: ErrorOut, **READ_ERRORS},
    summary="The audit log, newest first",
    description="Who did what, when, from where. Owner keys only (403 for others). "
    "Actions: " + ", ".join(f"{family}.{{{','.join(verbs)}}}" for family, verbs in
                            audit_log.ACTIONS.items()) + ".",
    operation_id="listAuditEntries",
)  # fmt: skip
def list_entries(
    request,
    action: str | None = Query(
        None,
        pattern=audit_log.ACTION_PATTERN,
        description="workflow.publish, or a family: workflow",
    ),
    actor: str | None = Query(None, max_length=150, description="A username or an API key's name"),
    object: str | None = Query(
        None, pattern=audit_log.OBJECT_PATTERN, description="A type (workflow) or type:id"
    ),
    since: datetime | None = Query(None, description="Entries at or after this time"),
    until: datetime | None = Query(None, description="Entries before this time"),
    cursor: str | None = Query(None, pattern=r"^[0-9]{1,18}$"),
    limit: int = Query(50, ge=1, le=200),
):
    require(request, Role.OWNER)
    rows = audit_log.entries(
        request.workspace,
        action=action or "",
        actor=actor or "",
        object=object or "",
        since=_utc(since, "since") if since else None,
        until=_utc(until, "until") if until else None,
    )
    found, more = audit_log.page(rows, int(cursor) if cursor else None, limit)
    return {
        "items": [audit_log.entry_out(entry) for entry in found],
        "next_cursor": str(more) if more else None,
    }
