"""A workflow's webhook triggers: their URLs, a secret shown once, signing snippets, recent
deliveries (each one readable and replayable), and a test event sent from the page."""

import json
import secrets

from django.contrib import messages
from django.db.models import Max
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from builder import webhooks
from builder.forms import TestEventForm, TriggerForm
from builder.models import Trigger, WebhookDelivery
from builder.snippets import snippets
from builder.views.common import get_workflow
from core.audit import delete_recorded, record_save
from core.errors import SecretUnreadable
from core.masking import mask
from core.models import Role, Secret
from core.web import live
from core.workspaces import can_edit, workspace_view

RECENT_DELIVERIES = 10
MAX_ARRIVED = 100  # per poll; more arrive with the next ones
DELIVERY_PAYLOAD = ("headers", "query", "body")  # read when one is opened, not listed
DELIVERY_ROWS = ".deliveries tbody"  # where live.js finds the ids of the rows shown
SHOWN_ONCE = "trigger_secret_once"  # session key: popped by the next page view


@workspace_view()
@require_http_methods(["GET", "POST"])
def trigger_list(request, slug):
    workflow = get_workflow(request, slug)
    form = TriggerForm()
    status = 200
    if request.method == "POST":
        if not can_edit(request):
            raise Http404("No such page")  # a viewer's forged POST, as for any edit URL
        form = TriggerForm(request.POST)
        if form.is_valid():
            trigger = form.save(commit=False)
            trigger.workflow = workflow
            trigger.token = Trigger.new_token()
            if trigger.signature != Trigger.Signature.NONE:
                trigger.secret = _new_secret()
            trigger.save()
            record_save("trigger", request.workspace, trigger, True, form.changed_data)
            if trigger.secret:
                _show_once(request, trigger)
            messages.success(request, f"Created the webhook {trigger}.")
            return redirect("workflow_triggers", request.workspace.slug, workflow.slug)
        status = 422
    shown = request.session.pop(SHOWN_ONCE, None)
    # Read before the deliveries: the first poll then sees whatever arrives after them.
    poller = _deliveries_poller(request, workflow, _newest_delivery())
    rows = []
    for trigger in workflow.triggers.order_by("id"):
        deliveries = trigger.deliveries.select_related("run").order_by("-id")[:RECENT_DELIVERIES]
        url = request.build_absolute_uri(reverse("webhook", args=[trigger.token]))
        rows.append(
            {
                "trigger": trigger,
                "url": url,
                "secret": shown["secret"] if shown and shown["id"] == trigger.id else None,
                "deliveries": deliveries,
                # The URL is an editor's to see: so are the snippets that carry it.
                "snippets": snippets(trigger, url) if can_edit(request) else [],
                "test_form": TestEventForm(auto_id=f"test-{trigger.id}-%s"),
            }
        )
    context = {
        "workflow": workflow,
        "rows": rows,
        "form": form,
        "open_form": status == 422,
        "published": workflow.versions.exists(),
        "live": poller,
    }
    return render(request, "builder/triggers.html", context, status=status)


@require_GET
@live.workspace_poll
def trigger_deliveries_live(request, slug, cursor, shown):
    """The deliveries to the workflow's webhooks since `cursor`, each put at the top of its
    webhook's table; 204 when there are none (one indexed read)."""
    workflow = get_workflow(request, slug)
    arrived = list(
        WebhookDelivery.objects.filter(trigger__workflow=workflow, id__gt=cursor)
        .select_related("run")
        .defer(*DELIVERY_PAYLOAD, "run__definition", "run__input", "run__output")
        .order_by("id")[:MAX_ARRIVED]
    )
    if not arrived:
        return live.nothing_new()
    position = live.advance(cursor, [(d.id, d.received_at) for d in arrived])
    by_trigger = {}
    for delivery in reversed(arrived):  # newest first in each table
        if delivery.id not in shown:
            by_trigger.setdefault(delivery.trigger_id, []).append(delivery)
    count = sum(len(deliveries) for deliveries in by_trigger.values())
    context = {
        "workflow": workflow,
        "live": _deliveries_poller(request, workflow, position),
        "by_trigger": by_trigger,
        "news": f"{count} new deliver{'ies' if count != 1 else 'y'}" if count else "",
    }
    return render(request, "builder/_live_deliveries.html", context)


def _newest_delivery():
    return WebhookDelivery.objects.aggregate(newest=Max("id"))["newest"] or 0


def _deliveries_poller(request, workflow, cursor):
    url = reverse("workflow_triggers_live", args=[request.workspace.slug, workflow.slug])
    return live.poller(request, url, cursor, DELIVERY_ROWS)


@workspace_view(min_role=Role.EDITOR)
@require_POST
def toggle_trigger(request, slug, trigger_id):
    workflow = get_workflow(request, slug)
    trigger = get_object_or_404(Trigger, workflow=workflow, id=trigger_id)
    trigger.enabled = not trigger.enabled
    trigger.save(update_fields=["enabled", "updated_at"])
    record_save("trigger", request.workspace, trigger, False, ["enabled"])
    state = "enabled" if trigger.enabled else "disabled: its URL now answers 404"
    messages.success(request, f"Webhook {trigger} {state}.")
    return redirect("workflow_triggers", request.workspace.slug, workflow.slug)


@workspace_view(min_role=Role.EDITOR)
@require_POST
def rotate_secret(request, slug, trigger_id):
    """A new signing secret, shown once; the old one stops verifying at once."""
    workflow = get_workflow(request, slug)
    trigger = get_object_or_404(Trigger, workflow=workflow, id=trigger_id)
    if trigger.signature == Trigger.Signature.NONE:
        raise Http404("This webhook checks no signature")
    trigger.secret = _new_secret()
    trigger.save(update_fields=["encrypted_secret", "updated_at"])
    record_save("trigger", request.workspace, trigger, False, ["secret"])
    _show_once(request, trigger)
    messages.success(request, f"Webhook {trigger} has a new signing secret.")
    return redirect("workflow_triggers", request.workspace.slug, workflow.slug)


@workspace_view(min_role=Role.EDITOR)
@require_POST
def delete_trigger(request, slug, trigger_id):
    workflow = get_workflow(request, slug)
    trigger = get_object_or_404(Trigger, workflow=workflow, id=trigger_id)
    delete_recorded("trigger", request.workspace, trigger)
    messages.success(request, f"Deleted the webhook {trigger}.")
    return redirect("workflow_triggers", request.workspace.slug, workflow.slug)


def _new_secret():
    return "whsec_" + secrets.token_urlsafe(32)


def _show_once(request, trigger):
    request.session[SHOWN_ONCE] = {"id": trigger.id, "secret": trigger.secret}


@workspace_view()
@require_GET
def delivery_detail(request, slug, trigger_id, delivery_id):
    """One delivery's request as received: credentials and signatures were masked before it
    was stored; the workspace's secrets are masked in it here."""
    workflow = get_workflow(request, slug)
    trigger = get_object_or_404(Trigger, workflow=workflow, id=trigger_id)
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("run"), trigger=trigger, id=delivery_id
    )
    hidden = _secrets_of(request.workspace, trigger)
    context = {
        "workflow": workflow,
        "trigger": trigger,
        "delivery": delivery,
        "headers": sorted(mask(delivery.headers, hidden).items()),
        "query": sorted(mask(delivery.query, hidden).items()),
        "body": mask(_pretty(delivery.body), hidden),
    }
    return render(request, "builder/delivery.html", context)


@workspace_view(min_role=Role.EDITOR)
@require_POST
def replay_delivery(request, slug, trigger_id, delivery_id):
    """The same request again, as a new delivery and a new run (no signature to check: an
    editor asked for it)."""
    workflow = get_workflow(request, slug)
    trigger = get_object_or_404(Trigger, workflow=workflow, id=trigger_id)
    delivery = get_object_or_404(WebhookDelivery, trigger=trigger, id=delivery_id)
    note = f"Replay of delivery #{delivery.id} by {request.user.get_username()}"
    body = delivery.body.encode()
    return _redeliver(request, workflow, trigger, body, delivery.headers, delivery.query, note)


@workspace_view(min_role=Role.EDITOR)
@require_POST
def send_test_event(request, slug, trigger_id):
    workflow = get_workflow(request, slug)
    trigger = get_object_or_404(Trigger, workflow=workflow, id=trigger_id)
    form = TestEventForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The test event's body: " + " ".join(form.errors["body"]))
        return redirect(_trigger_anchor(workflow, trigger))
    headers = {"Content-Type": "application/json", "User-Agent": "Brickwork test event"}
    body = form.cleaned_data["body"].encode()
    note = f"Test event sent by {request.user.get_username()}"
    return _redeliver(request, workflow, trigger, body, headers, {}, note)


def _redeliver(request, workflow, trigger, body, headers, query, note):
    try:
        run_id = webhooks.redeliver(trigger, body, headers, query, note)
    except webhooks.Refused as refused:
        messages.error(request, f"Not started: {refused.message}")
        return redirect(_trigger_anchor(workflow, trigger))
    messages.success(request, f"{note}: run #{run_id} started.")
    return redirect("run_detail", request.workspace.slug, run_id)


def _trigger_anchor(workflow, trigger):
    url = reverse("workflow_triggers", args=[workflow.workspace.slug, workflow.slug])
    return f"{url}#trigger-{trigger.id}"


def _secrets_of(workspace, trigger):
    hidden = list(Secret.values_of(workspace.id).values())
    try:
        hidden.append(trigger.secret)
    except SecretUnreadable:
        pass  # saved under a key this server no longer has: it cannot appear here either
    return [value for value in hidden if value]


def _pretty(body):
    """A JSON body indented to read; anything else as it came."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body
