"""A workflow's webhook triggers: their URLs, a secret shown once, recent deliveries."""

import secrets

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from builder.forms import TriggerForm
from builder.models import Trigger
from builder.views.common import get_workflow
from core.audit import delete_recorded, record_save
from core.models import Role
from core.workspaces import can_edit, workspace_view

RECENT_DELIVERIES = 10
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
    rows = []
    for trigger in workflow.triggers.order_by("id"):
        deliveries = trigger.deliveries.select_related("run").order_by("-id")[:RECENT_DELIVERIES]
        rows.append(
            {
                "trigger": trigger,
                "url": request.build_absolute_uri(reverse("webhook", args=[trigger.token])),
                "secret": shown["secret"] if shown and shown["id"] == trigger.id else None,
                "deliveries": deliveries,
            }
        )
    context = {
        "workflow": workflow,
        "rows": rows,
        "form": form,
        "open_form": status == 422,
        "published": workflow.versions.exists(),
    }
    return render(request, "builder/triggers.html", context, status=status)


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
