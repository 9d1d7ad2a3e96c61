"""Raising alerts: what the rules watch for, folded by fingerprint, masked, queued.

The sweeper calls `scan` every pass, outside any engine transaction:
1. for each enabled rule, the run events after its cursor (`run.failed`,
   `run.compensated`, `run.flagged` = needs review), the runs that crossed its duration,
   and the schedules whose missed count or error changed since last seen;
2. each finding has a fingerprint (event + workflow + step + error code); the first in a
   rule's window becomes an Alert with one pending AlertDelivery per channel, the rest
   within the window only add to its `count`; the next alert after the window says how
   many were folded into the one before;
3. the cursor moves by compare-and-set in the same transaction, so two sweepers never
   raise the same finding twice.
Secret values of the workspace are masked in everything an alert carries (core/masking.py).
Delivery is runner/alert_channels.py's job.
"""

import logging
from datetime import timedelta

from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone

from core.audit import delete_recorded, record_save
from core.masking import mask
from core.models import Secret
from core.outbound import check_url
from core.retention import purge_before
from runner.alert_models import Alert, AlertDelivery, AlertEvent, AlertRule
from runner.models import Run, RunEvent, Schedule
from runner.states import ACTIVE_RUN

log = logging.getLogger(__name__)

EVENT_OF_TYPE = {
    "run.failed": AlertEvent.FAILED,
    "run.compensated": AlertEvent.COMPENSATED,
    "run.flagged": AlertEvent.NEEDS_REVIEW,
}
SCAN_LIMIT = 200  # events per rule per pass; the rest next pass
SETTLE_S = 1
MIN_WINDOW_S, MAX_WINDOW_S = 60, 7 * 86400
MAX_LONG_RUN_S = 30 * 86400
KEEP_DAYS = 90  # the delivery log's history


# -- Rules ------------------------------------------------------------------------------


def save_rule(rule, changes):
    """Apply `changes` after checking them together; {field: [messages]}, or {} once saved.

    `webhook_secret` is write-only: None (or absent) keeps the one saved."""
    secret = changes.pop("webhook_secret", None)
    for field, value in changes.items():
        setattr(rule, field, value)
    errors = rule_problems(rule)
    if errors:
        return errors
    if secret is not None:
        rule.webhook_secret = secret
    created = rule.pk is None
    if rule.pk is None:
        rule.event_cursor = RunEvent.objects.aggregate(last=Max("id"))["last"] or 0
        rule.long_checked_at = timezone.now()
        rule.schedule_marks = {str(s.id): [s.missed, s.last_error] for s in _schedules(rule)}
    rule.save()
    fields = [*changes, "webhook_secret"] if secret is not None else changes
    record_save("alert_rule", rule.workspace, rule, created, fields)
    return {}


def delete_rule(rule):
    """Delete a rule and its delivery log."""
    delete_recorded("alert_rule", rule.workspace, rule)


def rule_problems(rule):
    errors = {}
    if not rule.name.strip():
        errors["name"] = ["Give the rule a name."]
    elif (
        AlertRule.objects.filter(workspace=rule.workspace, name=rule.name)
        .exclude(id=rule.id)
        .exists()
    ):
        errors["name"] = ["This workspace has a rule of this name already."]
    unknown = [e for e in rule.events if e not in AlertEvent.values]
    if not rule.events or unknown:
        errors["events"] = ["Choose at least one event." if not unknown else "Unknown event."]
    if AlertEvent.LONG_RUN in rule.events and not rule.long_run_s:
        errors["long_run_s"] = ["Say how long a run may take before it is alerted on."]
    if rule.long_run_s is not None and not 1 <= rule.long_run_s <= MAX_LONG_RUN_S:
        errors["long_run_s"] = [f"Between 1 and {MAX_LONG_RUN_S} seconds."]
    if not MIN_WINDOW_S <= rule.window_s <= MAX_WINDOW_S:
        errors["window_s"] = [f"Between {MIN_WINDOW_S} and {MAX_WINDOW_S} seconds."]
    for address in rule.recipients:
        try:
            validate_email(address)
        except Exception:
            errors["email_to"] = [f"{address[:100]} is not an e-mail address."]
            break
    if rule.webhook_url:
        try:
            check_url(rule.webhook_url)
        except Exception as error:
            errors["webhook_url"] = [str(error).replace("refused: ", "").capitalize() + "."]
    if not rule.recipients and not rule.webhook_url:
        errors["email_to"] = ["Give an e-mail address or a webhook URL (or both)."]
    if rule.workflow_id and rule.workflow.workspace_id != rule.workspace_id:
        errors["workflow"] = ["No such workflow."]
    return errors


# -- Scanning ---------------------------------------------------------------------------


def scan(now=None):
    """One sweeper pass over every enabled rule; the number of alerts raised."""
    now = now or timezone.now()
    raised = 0
    for rule in AlertRule.objects.filter(enabled=True).select_related("workspace", "workflow"):
        try:
            raised += _scan_rule(rule, now)
        except Exception:
            log.exception("alert rule %s could not be checked", rule.id)
    return raised


def _scan_rule(rule, now):
    raised = 0
    watched = set(rule.events)
    if watched & {AlertEvent.FAILED, AlertEvent.COMPENSATED, AlertEvent.NEEDS_REVIEW}:
        raised += _scan_events(rule, now)
    if AlertEvent.LONG_RUN in watched and rule.long_run_s:
        raised += _scan_long_runs(rule, now)
    if AlertEvent.SCHEDULE_MISSED in watched:
        raised += _scan_schedules(rule, now)
    return raised


def _scan_events(rule, now):
    # Only events a second old: an id is taken at INSERT, so a transaction still open may
    # yet commit an event below the newest id seen; a second covers the engine's.
    settled = now - timedelta(seconds=SETTLE_S)
    types = [t for t, event in EVENT_OF_TYPE.items() if event in rule.events]
    recent = RunEvent.objects.filter(id__gt=rule.event_cursor, created_at__lt=settled)
    events = recent.filter(type__in=types, run__workspace_id=rule.workspace_id)
    if rule.workflow_id:
        events = events.filter(run__workflow_id=rule.workflow_id)
    found = list(events.select_related("run", "run__workflow").order_by("id")[:SCAN_LIMIT])
    if not found:
        # Move past what is not ours (newest first: a few rows of the primary key).
        newest = recent.order_by("-id").values_list("id", flat=True).first()
        if newest:
            AlertRule.objects.filter(id=rule.id, event_cursor=rule.event_cursor).update(
                event_cursor=newest
            )
        return 0
    with transaction.atomic():
        moved = AlertRule.objects.filter(id=rule.id, event_cursor=rule.event_cursor).update(
            event_cursor=found[-1].id
        )
        if not moved:
            return 0  # another sweeper took these
        return sum(_raise_for_event(rule, event, now) for event in found)


def _raise_for_event(rule, event, now):
    run = event.run
    kind = EVENT_OF_TYPE[event.type]
    error = run.error or {}
    step = event.step_key if kind == AlertEvent.NEEDS_REVIEW else error.get("step", "")
    code = "CompensationFailed" if kind == AlertEvent.NEEDS_REVIEW else error.get("type") or ""
    message = error.get("message", "") if kind != AlertEvent.NEEDS_REVIEW else event.message
    verb = {
        AlertEvent.FAILED: "failed",
        AlertEvent.COMPENSATED: "was compensated",
        AlertEvent.NEEDS_REVIEW: "needs review",
    }[kind]
    where = f" at step {step}" if step else ""
    title = f"Run #{run.id} of {_name(run)} {verb}{where}" + (f" ({code})" if code else "")
    data = {
        "workflow": _workflow_key(run),
        "step": step,
        "error_code": code,
        "message": message,
        "run": run.id,
        "status": run.status,
        "url": reverse("run_detail", args=[rule.workspace.slug, run.id]),
    }
    return _raise(rule, kind, [kind, data["workflow"], step, code], title, data, run, now)


def _scan_long_runs(rule, now):
    threshold = timedelta(seconds=rule.long_run_s)
    since = (rule.long_checked_at or rule.created_at) - threshold
    runs = Run.objects.filter(
        workspace_id=rule.workspace_id,
        status__in=ACTIVE_RUN,
        started_at__gt=since,
        started_at__lte=now - threshold,
    )
    if rule.workflow_id:
        runs = runs.filter(workflow_id=rule.workflow_id)
    with transaction.atomic():
        claimed = AlertRule.objects.filter(id=rule.id, long_checked_at=rule.long_checked_at)
        if not claimed.update(long_checked_at=now):
            return 0
        raised = 0
        for run in runs.select_related("workflow")[:SCAN_LIMIT]:
            title = f"Run #{run.id} of {_name(run)} has been running over {rule.long_run_s} s"
            data = {
                "workflow": _workflow_key(run),
                "step": "",
                "error_code": "LongRun",
                "message": f"started {run.started_at:%Y-%m-%d %H:%M:%S} UTC, still {run.status}",
                "run": run.id,
                "status": run.status,
                "url": reverse("run_detail", args=[rule.workspace.slug, run.id]),
            }
            fingerprint = [AlertEvent.LONG_RUN, data["workflow"], "", "LongRun"]
            raised += _raise(rule, AlertEvent.LONG_RUN, fingerprint, title, data, run, now)
        return raised


def _scan_schedules(rule, now):
    marks = dict(rule.schedule_marks)
    news = []
    for schedule in _schedules(rule):
        missed, error = marks.get(str(schedule.id), [0, ""])
        if schedule.missed > missed or (schedule.last_error and schedule.last_error != error):
            news.append((schedule, schedule.missed - missed))
        marks[str(schedule.id)] = [schedule.missed, schedule.last_error]
    if marks == rule.schedule_marks:
        return 0
    with transaction.atomic():
        claimed = AlertRule.objects.filter(id=rule.id, schedule_marks=rule.schedule_marks)
        if not claimed.update(schedule_marks=marks):
            return 0
        raised = 0
        for schedule, missed in news:
            reason = schedule.last_error or f"{missed} fire time(s) missed (catch-up window)"
            title = f"Schedule {schedule.name} of {schedule.workflow.name} did not fire"
            data = {
                "workflow": schedule.workflow.slug,
                "step": "",
                "error_code": "ScheduleMissed",
                "message": reason,
                "schedule": schedule.id,
                "url": reverse(
                    "workflow_schedules", args=[rule.workspace.slug, schedule.workflow.slug]
                ),
            }
            fingerprint = [AlertEvent.SCHEDULE_MISSED, schedule.workflow.slug, schedule.name, ""]
            raised += _raise(rule, AlertEvent.SCHEDULE_MISSED, fingerprint, title, data, None, now)
        return raised


def _schedules(rule):
    found = Schedule.objects.filter(workspace_id=rule.workspace_id).select_related("workflow")
    return found.filter(workflow_id=rule.workflow_id) if rule.workflow_id else found


# -- Raising ----------------------------------------------------------------------------


def _raise(rule, event, parts, title, data, run, now, test=False):
    """A new alert (1), or a repeat folded into the open one of its fingerprint (0)."""
    fingerprint = ":".join(str(part) for part in parts)[:300]
    alerts = Alert.objects.filter(rule=rule, fingerprint=fingerprint, test=False)
    if not test:
        window_start = now - timedelta(seconds=rule.window_s)
        current = alerts.filter(opened_at__gt=window_start).order_by("-opened_at").first()
        if current is not None:
            Alert.objects.filter(id=current.id).update(count=F("count") + 1, last_at=now)
            return 0
    previous = None if test else alerts.order_by("-opened_at").first()
    folded = previous.count - 1 if previous else 0
    secrets = Secret.values_of(rule.workspace_id).values()
    data = mask({**data, "event": event, "rule": rule.name, "fingerprint": fingerprint}, secrets)
    title = mask(title, secrets)
    text = _text(title, data, folded, test)
    alert = Alert.objects.create(
        rule=rule, event=event, fingerprint=fingerprint, title=title[:300], text=text,
        data=data, run=run, folded_before=folded, test=test, opened_at=now, last_at=now,
    )  # fmt: skip
    channels = [(AlertDelivery.Channel.EMAIL, address) for address in rule.recipients]
    if rule.webhook_url:
        channels.append((AlertDelivery.Channel.WEBHOOK, rule.webhook_url))
    AlertDelivery.objects.bulk_create(
        AlertDelivery(alert=alert, channel=channel, target=target, next_try_at=now)
        for channel, target in channels
    )
    return 1


def _text(title, data, folded, test):
    lines = [("[test] " if test else "") + title]
    if data.get("message"):
        lines.append(data["message"])
    if folded:
        lines.append(f"{folded} more like it were folded into the previous alert.")
    lines.append(data["url"])
    return "\n".join(lines)


def send_test(rule, now=None):
    """Queue a test alert through every channel of `rule` (never folded)."""
    now = now or timezone.now()
    data = {
        "workflow": rule.workflow.slug if rule.workflow_id else "",
        "step": "",
        "error_code": "Test",
        "message": "This is a test of the alert rule; nothing went wrong.",
        "url": reverse("alert_list", args=[rule.workspace.slug]),
    }
    title = f"Test alert from the rule {rule.name}"
    _raise(rule, AlertEvent.FAILED, ["test", now.isoformat()], title, data, None, now, test=True)
    return Alert.objects.filter(rule=rule, test=True).order_by("-id").first()


def purge_old(now=None):
    """Alerts (with their deliveries) older than KEEP_DAYS, a batch per sweeper pass."""
    cutoff = (now or timezone.now()) - timedelta(days=KEEP_DAYS)
    return purge_before(Alert, "opened_at", cutoff, batch=200)


def _name(run):
    return run.title


def _workflow_key(run):
    if run.workflow_id:
        return run.workflow.slug
    return run.action.name if run.action_id else ""
