"""`/api/v1/alerts`: alert rules (runner/alerts.py), a test send, and the delivery log; the
Alerts page's twin."""

from datetime import datetime

from ninja import Field, Query, Router, Schema

from builder.models import Workflow
from core.api.auth import require_editor
from core.api.errors import ApiError
from core.api.lookup import one_or_404
from core.api.schemas import ERRORS, READ_ERRORS, Strict
from core.models import Role
from core.workspaces import RANK
from runner import alerts
from runner.alert_models import AlertDelivery, AlertEvent, AlertRule

router = Router(tags=["alerts"])


class AlertRuleIn(Strict):
    """A new rule; on PATCH, only the fields sent change."""

    name: str = Field(..., min_length=1, max_length=100, pattern=r"^[^\x00]*$")
    workflow: str | None = Field(None, max_length=100, description="A workflow's slug; null: all")
    events: list[AlertEvent] = Field(..., min_length=1, max_length=5)
    long_run_s: int | None = Field(None, ge=1, le=alerts.MAX_LONG_RUN_S)
    email_to: list[str] = Field(default_factory=list, max_length=20)
    webhook_url: str = Field("", max_length=500)
    webhook_secret: str | None = Field(
        None, max_length=200, description="Write-only: signs each POST; never returned"
    )
    window_s: int = Field(3600, ge=alerts.MIN_WINDOW_S, le=alerts.MAX_WINDOW_S)
    enabled: bool = True


class AlertRulePatch(AlertRuleIn):
    name: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[^\x00]*$")
    events: list[AlertEvent] | None = Field(None, min_length=1, max_length=5)


class AlertRuleOut(Schema):
    id: int
    name: str
    workflow: str | None
    events: list[str]
    long_run_s: int | None
    email_to: list[str]
    webhook_url: str
    signed: bool = Field(description="Whether the webhook POSTs are signed")
    window_s: int
    enabled: bool
    created_at: datetime


class DeliveryOut(Schema):
    id: int
    rule: int
    alert: int
    title: str
    test: bool
    count: int = Field(description="This alert and the repeats folded into it")
    channel: str
    target: str
    status: str
    tries: int
    last_error: str
    response_code: int | None
    sent_at: datetime | None
    created_at: datetime


class TestOut(Schema):
    alert: int
    deliveries: list[DeliveryOut]


def rule_out(rule, role=Role.EDITOR):
    """A viewer key sees where the webhook goes, not its path (often its credential)."""
    return {
        "id": rule.id,
        "name": rule.name,
        "workflow": rule.workflow.slug if rule.workflow_id else None,
        "events": rule.events,
        "long_run_s": rule.long_run_s,
        "email_to": rule.recipients,
        "webhook_url": rule.webhook_url if RANK[role] >= RANK[Role.EDITOR] else rule.webhook_origin,
        "signed": bool(rule.encrypted_webhook_secret),
        "window_s": rule.window_s,
        "enabled": rule.enabled,
        "created_at": rule.created_at,
    }


def delivery_out(delivery):
    alert = delivery.alert
    return {
        "id": delivery.id,
        "rule": alert.rule_id,
        "alert": alert.id,
        "title": alert.title,
        "test": alert.test,
        "count": alert.count,
        "channel": delivery.channel,
        "target": delivery.shown_target,
        "status": delivery.status,
        "tries": delivery.tries,
        "last_error": delivery.last_error,
        "response_code": delivery.response_code,
        "sent_at": delivery.sent_at,
        "created_at": delivery.created_at,
    }


def _rules(workspace):
    return AlertRule.objects.filter(workspace=workspace).select_related("workflow")


def _changes(workspace, payload, partial):
    changes = payload.model_dump(exclude_unset=partial)
    if partial and changes.get("name", "") is None:
        changes.pop("name")
    if partial and changes.get("events", []) is None:
        changes.pop("events")
    if "events" in changes:
        changes["events"] = [str(event) for event in changes["events"]]
    if "email_to" in changes:
        changes["email_to"] = "\n".join(address.strip() for address in changes["email_to"])
    if "workflow" in changes:
        slug = changes.pop("workflow")
        changes["workflow"] = None
        if slug:
            changes["workflow"] = Workflow.objects.filter(workspace=workspace, slug=slug).first()
            if changes["workflow"] is None:
                raise ApiError(422, "No such workflow", fields={"workflow": ["No such workflow."]})
    return changes


def _save(rule, changes):
    if errors := alerts.save_rule(rule, changes):
        raise ApiError(422, "The rule's settings do not fit together", fields=errors)
    return rule_out(rule)


@router.get(
    "/rules", response={200: list[AlertRuleOut], **READ_ERRORS},
    operation_id="listAlertRules", summary="The workspace's alert rules",
)  # fmt: skip
def list_rules(request):
    rules = _rules(request.workspace).order_by("name")
    return [rule_out(rule, request.role) for rule in rules]


@router.post(
    "/rules", response={201: AlertRuleOut, **ERRORS},
    operation_id="createAlertRule", summary="Alert by e-mail or webhook on run events",
)  # fmt: skip
def create_rule(request, payload: AlertRuleIn):
    require_editor(request)
    rule = AlertRule(workspace=request.workspace)
    return 201, _save(rule, _changes(request.workspace, payload, partial=False))


@router.get(
    "/rules/{rule_id}", response={200: AlertRuleOut, **READ_ERRORS},
    operation_id="getAlertRule",
)  # fmt: skip
def get_rule(request, rule_id: int):
    return rule_out(one_or_404(_rules(request.workspace), rule_id), request.role)


@router.patch(
    "/rules/{rule_id}", response={200: AlertRuleOut, **ERRORS},
    operation_id="updateAlertRule", summary="Change, disable or enable an alert rule",
)  # fmt: skip
def update_rule(request, rule_id: int, payload: AlertRulePatch):
    require_editor(request)
    rule = one_or_404(_rules(request.workspace), rule_id)
    return _save(rule, _changes(request.workspace, payload, partial=True))


@router.delete(
    "/rules/{rule_id}", response={204: None, **ERRORS}, operation_id="deleteAlertRule",
)  # fmt: skip
def delete_rule(request, rule_id: int):
    require_editor(request)
    alerts.delete_rule(one_or_404(_rules(request.workspace), rule_id))
    return 204, None


@router.post(
    "/rules/{rule_id}/test", response={202: TestOut, **ERRORS},
    operation_id="testAlertRule", summary="Send a test alert through every channel",
    description="Queued at once; the sweeper sends it within a pass or two. Follow it in "
    "`GET /api/v1/alerts/deliveries`.",
)  # fmt: skip
def test_rule(request, rule_id: int):
    require_editor(request)
    rule = one_or_404(_rules(request.workspace), rule_id)
    alert = alerts.send_test(rule)
    deliveries = alert.deliveries.select_related("alert").order_by("id")
    return 202, {"alert": alert.id, "deliveries": [delivery_out(d) for d in deliveries]}


@router.get(
    "/deliveries", response={200: list[DeliveryOut], **READ_ERRORS},
    operation_id="listAlertDeliveries", summary="The delivery log, newest first",
)  # fmt: skip
def list_deliveries(
    request,
    rule: int | None = Query(None, ge=1, le=2**63 - 1),
    limit: int = Query(50, ge=1, le=200),
):
    found = AlertDelivery.objects.filter(alert__rule__workspace=request.workspace)
    if rule:
        found = found.filter(alert__rule_id=rule)
    found = found.select_related("alert").order_by("-id")[:limit]
    return [delivery_out(delivery) for delivery in found]
