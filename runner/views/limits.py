"""The limits page: a workspace's concurrency and rate limits on its actions, with how
many slots each holds right now; editors add and delete them (API twins in
core/api/limits.py)."""

import redis
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core import limits
from core.models import Role
from core.workspaces import can_edit, workspace_view
from runner import action_limits
from runner.limit_form import LimitForm
from runner.models import ActionLimit


@workspace_view()
@require_http_methods(["GET", "POST"])
def limit_list(request):
    form, status = LimitForm(), 200
    if request.method == "POST":
        if not can_edit(request):
            raise Http404("No such page")
        form = LimitForm(request.POST)
        if form.is_valid():
            limit = ActionLimit(workspace=request.workspace)
            errors = action_limits.save(limit, form.changes())
            if not errors:
                messages.success(request, f"Added the limit {limit.name} on {limit.action}.")
                return redirect("limit_list", request.workspace.slug)
            form.add_errors(errors)
        status = 422
    rows = [
        {"limit": limit, "caps": action_limits.describe(limit), "busy": _busy(limit)}
        for limit in ActionLimit.objects.filter(workspace=request.workspace)
    ]
    context = {"rows": rows, "form": form}
    return render(request, "runner/limits.html", context, status=status)


@require_POST
@workspace_view(min_role=Role.EDITOR)
def limit_delete(request, limit_id):
    limit = get_object_or_404(ActionLimit, workspace=request.workspace, id=limit_id)
    action_limits.delete(limit)
    messages.success(request, f"Deleted the limit {limit.name}.")
    return redirect("limit_list", request.workspace.slug)


def _busy(limit):
    """Attempts holding the limit's slot now (a keyless limit only: a keyed one has one
    bucket per value); None when unknown."""
    if limit.key or not limit.max_concurrent:
        return None
    bucket = action_limits.for_step(limit.workspace_id, limit.action, {})
    mine = [b for b in bucket if b.bucket == f"action:{limit.id}:"]
    try:
        return len(limits.holders(mine[0])) if mine else None
    except redis.RedisError:
        return None
