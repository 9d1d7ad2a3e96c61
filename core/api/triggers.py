"""`/api/v1/workflows/<slug>/triggers`: the webhook triggers of a workflow, and their deliveries.

A trigger's signing secret is shown once, in the answer that generated it.
"""

import json
import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

from django.urls import reverse
from ninja import Field, Query, Router, Schema
from pydantic import StringConstraints

from builder import webhooks
from builder.models import Trigger, WebhookDelivery
from core.api.auth import require_editor
from core.api.errors import ApiError
from core.api.lookup import one_or_404
from core.api.schemas import ERRORS, READ_ERRORS, Strict
from core.api.workflows import get_workflow
from core.audit import delete_recorded, record_save

router = Router(tags=["triggers"])
HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$"
HeaderName = Annotated[str, StringConstraints(pattern=HEADER_NAME)]


class TriggerIn(Strict):
    """A new trigger; on PATCH, only the fields sent change."""

    name: str = Field("", max_length=100, pattern=r"^[^\x00]*$")
    enabled: bool = True
    input_mode: Literal["envelope", "body"] = Field(
        "envelope",
        description='"envelope": {"body", "headers", "query"} as the run input; "body": the '
        "body alone",
    )
    headers: list[HeaderName] = Field(
        default_factory=list, max_length=50, description="Headers copied into the envelope"
    )
    accept_text: bool = Field(False, description="Accept a body that is not JSON (as text)")
    signature: Literal["none", "timestamped", "hmac"] = Field(
        "none",
        description='"timestamped": `Brickwork-Signature: t=<unix>,v1=<hex HMAC-SHA256 of '
        '"<t>.<body>">`, at most 5 minutes old; "hmac": `<signature_header>: '
        "<signature_prefix><hex HMAC of the body>` (GitHub: X-Hub-Signature-256, sha256=)",
    )
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="The signing secret; generated (and shown once) when omitted",
    )
    signature_header: HeaderName | Literal[""] = ""
    signature_algorithm: Literal["sha1", "sha256", "sha512"] = "sha256"
    signature_prefix: str = Field("", max_length=50, pattern=r"^[\x20-\x7e]*$")
    event_id_header: HeaderName | Literal[""] = Field(
        "", description="A header naming the event; a second delivery of it starts no run"
    )


class TriggerOut(Schema):
    id: int
    workflow: str
    name: str
    url: str
    enabled: bool
    input_mode: str
    headers: list[str]
    accept_text: bool
    signature: str
    signature_header: str
    signature_algorithm: str
    signature_prefix: str
    event_id_header: str
    secret: str | None = Field(description="Only in the answer that generated the secret")
    created_at: datetime
    updated_at: datetime


class WebhookDeliveryOut(Schema):
    id: int
    received_at: datetime
    size: int
    status_code: int
    verdict: str
    message: str
    event_id: str
    run: int | None


class DeliveryPage(Schema):
    items: list[WebhookDeliveryOut]
    next_cursor: str | None


def trigger_out(request, trigger, secret=None):
    return {
        "id": trigger.id,
        "workflow": trigger.workflow.slug,
        "name": trigger.name,
        "url": request.build_absolute_uri(reverse("webhook", args=[trigger.token])),
        "enabled": trigger.enabled,
        "input_mode": trigger.input_mode,
        "headers": trigger.headers,
        "accept_text": trigger.accept_text,
        "signature": trigger.signature,
        "signature_header": trigger.signature_header_name,
        "signature_algorithm": trigger.signature_algorithm,
        "signature_prefix": trigger.signature_prefix,
        "event_id_header": trigger.event_id_header,
        "secret": secret,
        "created_at": trigger.created_at,
        "updated_at": trigger.updated_at,
    }


def get_trigger(workspace, slug, trigger_id):
    workflow = get_workflow(workspace, slug)
    return one_or_404(workflow.triggers.select_related("workflow"), trigger_id)


def _save(trigger, changes):
    """Apply `changes`, generate a secret when a signature needs one; the new secret or None."""
    for field, value in changes.items():
        setattr(trigger, field, value)
    generated = None
    if trigger.signature != Trigger.Signature.NONE and not trigger.encrypted_secret:
        trigger.secret = generated = secrets.token_urlsafe(32)
    if errors := trigger.config_errors():
        raise ApiError(422, "The trigger's settings do not fit together", fields=errors)
    created = trigger.pk is None
    trigger.save()
    record_save("trigger", trigger.workflow.workspace, trigger, created, changes)
    return generated


@router.get(
    "/{slug}/triggers",
    response={200: list[TriggerOut], **READ_ERRORS},
    summary="A workflow's webhooks",
    operation_id="listTriggers",
)
def list_triggers(request, slug: str):
    workflow = get_workflow(request.workspace, slug)
    return [trigger_out(request, trigger) for trigger in workflow.triggers.all()]


@router.post(
    "/{slug}/triggers",
    response={201: TriggerOut, **ERRORS},
    summary="Add a webhook",
    operation_id="createTrigger",
)
def create_trigger(request, slug: str, payload: TriggerIn):
    require_editor(request)
    workflow = get_workflow(request.workspace, slug)
    trigger = Trigger(workflow=workflow, token=Trigger.new_token())
    changes = payload.model_dump()
    changes["secret"] = changes["secret"] or ""
    generated = _save(trigger, changes)
    return 201, trigger_out(request, trigger, generated)


@router.get(
    "/{slug}/triggers/{trigger_id}",
    response={200: TriggerOut, **READ_ERRORS},
    summary="A webhook",
    operation_id="getTrigger",
)
def get_one(request, slug: str, trigger_id: int):
    return trigger_out(request, get_trigger(request.workspace, slug, trigger_id))


@router.patch(
    "/{slug}/triggers/{trigger_id}",
    response={200: TriggerOut, **ERRORS},
    summary="Change a webhook",
    description="Only the fields sent change; a new `secret` replaces the signing secret "
    "(the old one stops verifying at once).",
    operation_id="updateTrigger",
)
def update_trigger(request, slug: str, trigger_id: int, payload: TriggerIn):
    require_editor(request)
    trigger = get_trigger(request.workspace, slug, trigger_id)
    changes = payload.model_dump(exclude_unset=True)
    if changes.get("secret") is None:
        changes.pop("secret", None)  # null or absent: keep the secret
    generated = _save(trigger, changes)
    return trigger_out(request, trigger, generated)


@router.delete(
    "/{slug}/triggers/{trigger_id}",
    response={204: None, **ERRORS},
    summary="Delete a webhook",
    operation_id="deleteTrigger",
)
def delete_trigger(request, slug: str, trigger_id: int):
    require_editor(request)
    delete_recorded("trigger", request.workspace, get_trigger(request.workspace, slug, trigger_id))
    return 204, None


@router.get(
    "/{slug}/triggers/{trigger_id}/deliveries",
    response={200: DeliveryPage, **READ_ERRORS},
    summary="Recent deliveries, newest first",
    operation_id="listTriggerDeliveries",
)
def deliveries(
    request,
    slug: str,
    trigger_id: int,
    cursor: str | None = Query(None, pattern=r"^[0-9]{1,18}$"),
    limit: int = Query(50, ge=1, le=100),
):
    trigger = get_trigger(request.workspace, slug, trigger_id)
    rows = WebhookDelivery.objects.filter(trigger=trigger).order_by("-id")
    if cursor:
        rows = rows.filter(id__lt=int(cursor))
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    items = [
        {
            "id": row.id,
            "received_at": row.received_at,
            "size": row.size,
            "status_code": row.status_code,
            "verdict": row.verdict,
            "message": row.message,
            "event_id": row.event_id,
            "run": row.run_id,
        }
        for row in page
    ]
    return {"items": items, "next_cursor": str(page[-1].id) if more else None}


class TestEventIn(Strict):
    body: Any = Field(
        default_factory=lambda: {"event": "test"}, description="The JSON body to deliver"
    )


class RedeliveryOut(Schema):
    run: int


@router.post(
    "/{slug}/triggers/{trigger_id}/deliveries/{delivery_id}/replay",
    response={202: RedeliveryOut, **ERRORS},
    summary="Replay a delivery",
    description="The delivery's request again (its stored headers, query and body), as a new "
    "delivery and a new run; no signature is checked.",
    operation_id="replayTriggerDelivery",
)
def replay(request, slug: str, trigger_id: int, delivery_id: int):
    require_editor(request)
    trigger = get_trigger(request.workspace, slug, trigger_id)
    delivery = one_or_404(WebhookDelivery.objects.filter(trigger=trigger), delivery_id)
    note = f"Replay of delivery #{delivery.id} through the API"
    body = delivery.body.encode()
    return 202, {"run": _redeliver(trigger, body, delivery.headers, delivery.query, note)}


@router.post(
    "/{slug}/triggers/{trigger_id}/test",
    response={202: RedeliveryOut, **ERRORS},
    summary="Send a test event",
    description="Delivers `body` to the webhook as a sender would, with no signature needed.",
    operation_id="sendTriggerTestEvent",
)
def send_test_event(request, slug: str, trigger_id: int, payload: TestEventIn):
    require_editor(request)
    trigger = get_trigger(request.workspace, slug, trigger_id)
    body = json.dumps(payload.body).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Brickwork test event"}
    note = "Test event sent through the API"
    return 202, {"run": _redeliver(trigger, body, headers, {}, note)}


def _redeliver(trigger, body, headers, query, note):
    try:
        return webhooks.redeliver(trigger, body, headers, query, note)
    except webhooks.Refused as refused:
        raise ApiError(refused.status, refused.message, code=refused.code, fields=refused.fields)
