"""The workflow list, and creating a workflow (an empty draft to build on)."""

from django.db.models import Count, Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from builder import draft as drafts
from builder.forms import WorkflowForm
from builder.models import Workflow
from core.workspaces import can_edit, workspace_view


@workspace_view()
@require_http_methods(["GET", "POST"])
def workflow_list(request):
    form = WorkflowForm(workspace=request.workspace)
    status = 200
    if request.method == "POST":
        if not can_edit(request):
            # A viewer's forged POST finds nothing, like any URL they may not use.
            raise Http404("No such page")
        form = WorkflowForm(request.POST, workspace=request.workspace)
        if form.is_valid():
            workflow = Workflow.objects.create(
                workspace=request.workspace,
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                draft={"name": form.cleaned_data["name"], "steps": []},
                created_by=request.user,
            )
            return redirect("workflow_builder", request.workspace.slug, workflow.slug)
        status = 422
    workflows = (
        Workflow.objects.filter(workspace=request.workspace)
        .annotate(version_count=Count("versions"), latest_number=Max("versions__number"))
        .order_by("name")
    )
    rows = [(workflow, len(drafts.steps_of(workflow.draft))) for workflow in workflows]
    return render(
        request,
        "builder/workflow_list.html",
        {"rows": rows, "form": form, "open_form": status == 422},
        status=status,
    )
