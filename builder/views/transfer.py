"""Workflows as code: export a definition as JSON, import one (pasted or uploaded)."""

import json

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from builder.forms import ImportForm
from builder.models import WorkflowVersion
from builder.views.common import check, get_workflow, save_draft
from core.audit import record
from core.models import Role
from core.workspaces import workspace_view


@workspace_view()
@require_GET
def export(request, slug):
    """The draft (or `?version=N`) as a JSON file download."""
    workflow = get_workflow(request, slug)
    definition, suffix = workflow.draft, "draft"
    if raw := request.GET.get("version"):
        if not raw.isdigit():
            raise Http404("No such version")
        version = get_object_or_404(WorkflowVersion, workflow=workflow, number=int(raw))
        definition, suffix = version.definition, f"v{version.number}"
    body = json.dumps(definition, indent=2, ensure_ascii=False) + "\n"
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{workflow.slug}-{suffix}.json"'
    return response


@workspace_view(min_role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
@transaction.atomic
def import_definition(request, slug):
    """Replace the draft with a definition, once the validator accepts it.

    A definition with problems is saved only when asked ("save anyway"), so a bad paste
    never overwrites a good draft by accident.
    """
    workflow = get_workflow(request, slug, lock=request.method == "POST")
    form = ImportForm(request.POST or None, request.FILES or None)
    fields, status = {}, 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            parsed = form.cleaned_data["parsed"]
            _, fields = check(parsed, request.workspace, workflow.slug)
            steps = parsed.get("steps")
            shaped = isinstance(steps, list) and all(isinstance(step, dict) for step in steps)
            if not fields or (form.cleaned_data["save_invalid"] and shaped):
                parsed.setdefault("steps", [])
                save_draft(workflow, parsed)
                problems = sum(len(messages) for messages in fields.values())
                record("workflow.import", request.workspace, workflow, data={"problems": problems})
                note = f" It has {problems} problem(s) to fix." if problems else ""
                messages.success(request, f"Imported the definition into the draft.{note}")
                return redirect("workflow_builder", request.workspace.slug, workflow.slug)
            if form.cleaned_data["save_invalid"] and not shaped:
                form.add_error(
                    "definition", "Only a definition whose steps are objects can be saved."
                )
    context = {"workflow": workflow, "form": form, "fields": sorted(fields.items())}
    return render(request, "builder/import.html", context, status=status)


@workspace_view(min_role=Role.EDITOR)
@require_POST
def validate_definition(request, slug):
    """Check pasted JSON as it is typed, without saving it: the import page's live errors."""
    workflow = get_workflow(request, slug)
    form = ImportForm(request.POST)
    fields = {}
    if form.is_valid():
        _, fields = check(form.cleaned_data["parsed"], request.workspace, workflow.slug)
    context = {"workflow": workflow, "form": form, "fields": sorted(fields.items())}
    return render(request, "builder/import.html#checked", context)
