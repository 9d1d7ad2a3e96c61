"""Publishing the draft as a version, the version history, diffs, and restoring a version."""

import json

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from builder import draft as drafts
from builder import graph
from builder.diff import diff
from builder.forms import PublishForm
from builder.models import WorkflowVersion
from builder.views.common import check, get_workflow, save_draft
from builder.views.context import settings_context
from core.audit import record
from core.models import Role
from core.workspaces import workspace_view


@workspace_view(min_role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def publish(request, slug):
    """Validate the draft and freeze it as the next version, with a note."""
    workflow = get_workflow(request, slug)
    normalized, fields = check(workflow.draft, request.workspace, workflow.slug)
    latest = workflow.latest_version()
    form = PublishForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and normalized is not None:
            if latest is not None and latest.definition == normalized:
                form.add_error(None, f"Nothing changed since v{latest.number}.")
            else:
                version = workflow.publish(normalized, form.cleaned_data["note"], request.user)
                messages.success(request, f"Published {workflow.name} as v{version.number}.")
                url = _builder_url(workflow)
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        status = 422
    context = {
        "workflow": workflow,
        "form": form,
        "latest": latest,
        "changes": diff(latest.definition, normalized) if latest and normalized else None,
        "panel": settings_context(request, workflow, fields),
        "valid": normalized is not None,
    }
    template = "builder/_publish.html" if request.htmx else "builder/publish.html"
    return render(request, template, context, status=status)


@workspace_view()
@require_GET
def versions(request, slug):
    workflow = get_workflow(request, slug)
    history = list(workflow.versions.select_related("created_by").order_by("-number"))
    numbers = [version.number for version in history]
    new = _number(request.GET.get("to"), numbers, numbers[0] if numbers else None)
    older = [number for number in numbers if new is None or number < new]
    old = _number(request.GET.get("from"), numbers, older[0] if older else None)
    changes = None
    if old is not None and new is not None:
        changes = diff(_definition(history, old), _definition(history, new))
    draft_changes = None
    if history:
        normalized, _ = check(workflow.draft, request.workspace, workflow.slug)
        draft_changes = diff(history[0].definition, normalized or workflow.draft)
    context = {
        "workflow": workflow,
        "history": history,
        "old": old,
        "new": new,
        "changes": changes,
        "draft_changes": draft_changes,
    }
    template = "builder/versions.html#diff" if request.htmx else "builder/versions.html"
    return render(request, template, context)


@workspace_view()
@require_GET
def version_detail(request, slug, number):
    workflow = get_workflow(request, slug)
    version = get_object_or_404(WorkflowVersion, workflow=workflow, number=number)
    text = json.dumps(version.definition, indent=2, ensure_ascii=False)
    steps = drafts.steps_of(version.definition)
    nodes, edges = graph.build(steps, graph.workflow_names(workflow.workspace_id, steps))
    context = {
        "workflow": workflow,
        "version": version,
        "definition_text": text,
        "graph_cards": [{"node": node} for node in nodes],
        "graph_edges": edges,
    }
    return render(request, "builder/version.html", context)


@workspace_view(min_role=Role.EDITOR)
@require_POST
@transaction.atomic
def restore_version(request, slug, number):
    """Replace the draft with a copy of a version (the page asks to confirm first)."""
    workflow = get_workflow(request, slug, lock=True)
    version = get_object_or_404(WorkflowVersion, workflow=workflow, number=number)
    save_draft(workflow, version.definition)
    record("workflow.restore", request.workspace, workflow, data={"version": version.number})
    messages.success(request, f"The draft is now a copy of v{version.number}. Publish to use it.")
    return redirect(_builder_url(workflow))


def _number(raw, numbers, default):
    if raw in (None, ""):
        return default
    try:
        number = int(raw)
    except ValueError:
        raise Http404("No such version")
    if number not in numbers:
        raise Http404("No such version")
    return number


def _definition(history, number):
    return next(version.definition for version in history if version.number == number)


def _builder_url(workflow):
    return reverse("workflow_builder", args=[workflow.workspace.slug, workflow.slug])
