"""Alerts in the dashboard: the workspace's rules (create, edit, delete, send a test) and
the log of every delivery with its tries and errors."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.models import Role
from core.workspaces import can_edit, workspace_view
from runner import alerts
from runner.alert_form import AlertRuleForm
from runner.alert_models import AlertDelivery, AlertRule

LOG_SIZE = 50


def _rule(request, rule_id):
    return get_object_or_404(AlertRule, id=rule_id, workspace=request.workspace)


def _log(workspace):
    found = AlertDelivery.objects.filter(alert__rule__workspace=workspace)
    return list(found.select_related("alert", "alert__rule").order_by("-id")[:LOG_SIZE])


@require_GET
@workspace_view()
def alert_list(request):
    rules = AlertRule.objects.filter(workspace=request.workspace).select_related("workflow")
    context = {
        "rules": rules.order_by("name"),
        "deliveries": _log(request.workspace),
        "can_edit": can_edit(request),
    }
    return render(request, "runner/alerts.html", context)


@require_GET
@workspace_view()
def alert_log(request):
    """The delivery log alone (htmx polls it while the page is open)."""
    context = {"deliveries": _log(request.workspace)}
    return render(request, "runner/alerts.html#log", context)


@require_http_methods(["GET", "POST"])
@workspace_view(min_role=Role.EDITOR)
def alert_new(request):
    return _edit(request, AlertRule(workspace=request.workspace, created_by=request.user))


@require_http_methods(["GET", "POST"])
@workspace_view(min_role=Role.EDITOR)
def alert_edit(request, rule_id):
    return _edit(request, _rule(request, rule_id))


def _edit(request, rule):
    creating = rule.pk is None
    initial = {
        "name": rule.name,
        "workflow": rule.workflow_id,
        "events": rule.events,
        "long_run_s": rule.long_run_s,
        "email_to": rule.email_to,
        "webhook_url": rule.webhook_url,
        "window_s": rule.window_s,
    }
    form = AlertRuleForm(workspace=request.workspace, initial=initial)
    status = 200
    if request.method == "POST":
        form = AlertRuleForm(request.POST, workspace=request.workspace)
        if form.is_valid():
            errors = alerts.save_rule(rule, form.changes())
            if not errors:
                verb = "Created" if creating else "Saved"
                messages.success(request, f"{verb} the alert rule {rule.name}.")
                return redirect("alert_list", request.workspace.slug)
            form.add_errors(errors)
        status = 422
    context = {"form": form, "rule": rule, "creating": creating}
    return render(request, "runner/alert_form.html", context, status=status)


@require_POST
@workspace_view(min_role=Role.EDITOR)
def alert_test(request, rule_id):
    rule = _rule(request, rule_id)
    alerts.send_test(rule)
    messages.success(
        request,
        f"A test alert of {rule.name} is on its way; the delivery log below shows when it "
        "arrives (or why not).",
    )
    return redirect("alert_list", request.workspace.slug)


@require_POST
@workspace_view(min_role=Role.EDITOR)
def alert_delete(request, rule_id):
    rule = _rule(request, rule_id)
    alerts.delete_rule(rule)
    messages.success(request, f"Deleted the alert rule {rule.name} and its delivery log.")
    return redirect("alert_list", request.workspace.slug)
