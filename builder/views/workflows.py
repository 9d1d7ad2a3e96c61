"""The workflow list, creating a workflow (an empty draft to build on), archiving,
unarchiving and deleting one.

An archived workflow keeps its versions, runs and webhooks but starts no new run; only an
archived workflow can be deleted, and its runs stay, with the definitions they ran.
"""

from django.contrib import messages
from django.db.models import Count, Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from builder import draft as drafts
from builder.forms import WorkflowForm
from builder.models import Workflow
from builder.views.common import get_workflow
from core.audit import delete_recorded
from core.models import Role
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
    archived = request.GET.get("archived") == "1"
    workflows = (
        Workflow.objects.filter(workspace=request.workspace, archived_at__isnull=not archived)
        .annotate(version_count=Count("versions"), latest_number=Max("versions__number"))
        .order_by("name")
    )
    rows = [(workflow, len(drafts.steps_of(workflow.draft))) for workflow in workflows]
    return render(
        request,
        "builder/workflow_list.html",
        {"rows": rows, "form": form, "open_form": status == 422, "archived": archived},
        status=status,
    )


@workspace_view(min_role=Role.EDITOR)
@require_POST
def archive_workflow(request, slug):
    workflow = get_workflow(request, slug)
    if workflow.set_archived(True):
        messages.success(request, f"{workflow.name} is archived; it starts no new run.")
    return redirect("workflow_list", request.workspace.slug)


@workspace_view(min_role=Role.EDITOR)
@require_POST
def unarchive_workflow(request, slug):
    workflow = get_workflow(request, slug)
    if workflow.set_archived(False):
        messages.success(request, f"{workflow.name} is back; it runs again.")
    return redirect(reverse("workflow_list", args=[request.workspace.slug]) + "?archived=1")


@workspace_view(min_role=Role.EDITOR)
@require_POST
def delete_workflow(request, slug):
    workflow = get_workflow(request, slug)
    if workflow.archived_at is None:
        messages.error(request, "Archive the workflow before deleting it.")
    else:
        delete_recorded("workflow", request.workspace, workflow)
        messages.success(request, f"{workflow.name} was deleted; its runs stay.")
    return redirect(reverse("workflow_list", args=[request.workspace.slug]) + "?archived=1")
