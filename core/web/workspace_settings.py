"""The workspace's settings page: its retention policy, with what it stores and what the
next pass of the sweeper will delete (runner/pruning.py)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.models import Role
from core.web.forms import RetentionForm
from core.workspaces import workspace_view
from runner import pruning


def _page(request, form=None, status=200):
    workspace = request.workspace
    initial = {
        "keep_runs_days": workspace.keep_runs_days,
        "keep_failed_runs_days": workspace.keep_failed_runs_days,
    }
    context = {
        "form": form or RetentionForm(initial=initial),
        "figures": pruning.figures(workspace),
        "is_owner": request.role == Role.OWNER,
        "batch": pruning.BATCH_RUNS,
    }
    return render(request, "core/workspace_settings.html", context, status=status)


@require_GET
@workspace_view()
def workspace_settings(request):
    return _page(request)


@require_POST
@workspace_view(min_role=Role.OWNER)
def retention_save(request):
    form = RetentionForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=422)
    pruning.set_policy(request.workspace, **form.cleaned_data)
    messages.success(request, "Saved the retention policy; the sweeper applies it from now on.")
    return redirect("workspace_settings", request.workspace.slug)
