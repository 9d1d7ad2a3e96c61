"""Where a signed-in person lands, and their next workspace (accounts: core/web/accounts.py)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.web.forms import WorkspaceForm
from core.workspaces import default_workspace


def home(request):
    """Signed out: what Brickwork is, and the way in. Signed in: a workspace's dashboard."""
    if not request.user.is_authenticated:
        return render(request, "core/landing.html")
    workspace = default_workspace(request.user, request.session)
    if workspace is None:
        return redirect("workspace_new")
    return redirect("dashboard", workspace.slug)


@login_required
@require_http_methods(["GET", "POST"])
def workspace_new(request):
    form = WorkspaceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        workspace = form.create(request.user)
        return redirect("dashboard", workspace.slug)
    status = 422 if form.errors else 200
    return render(request, "core/workspace_new.html", {"form": form}, status=status)
