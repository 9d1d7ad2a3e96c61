"""API keys: create one (its secret shown once), see when each was last used, revoke."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.models import ApiKey, Role
from core.web.forms import ApiKeyForm
from core.workspaces import workspace_view


def _page(request, form=None, raw=None, status=200):
    keys = ApiKey.objects.filter(workspace=request.workspace).order_by("revoked_at", "-id")
    context = {"keys": keys, "form": form or ApiKeyForm(), "raw": raw}
    return render(request, "core/api_keys.html", context, status=status)


@require_GET
@workspace_view()
def api_key_list(request):
    return _page(request)


@require_POST
@workspace_view(min_role=Role.EDITOR)
def api_key_create(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=422)
    key, raw = form.issue(request.workspace)
    # Rendered in this response only: the key is stored hashed and never shown again.
    response = _page(request, raw=raw)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@workspace_view(min_role=Role.EDITOR)
def api_key_revoke(request, key_id):
    key = get_object_or_404(ApiKey, id=key_id, workspace=request.workspace)
    if key.revoked_at is None:
        key.revoke()
        messages.success(request, f"Key “{key.name}” was revoked; requests with it now get 401.")
    return redirect("api_key_list", request.workspace.slug)
