"""API keys: create one (its secret shown once), see when each was last used, revoke.

A new key's secret crosses one redirect in the session (post/redirect/get), so that
reloading the page shows the list instead of creating another key.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.models import ApiKey, Role
from core.web.forms import ApiKeyForm
from core.workspaces import workspace_view


def _page(request, form=None, raw=None, status=200):
    keys = ApiKey.objects.filter(workspace=request.workspace).order_by("revoked_at", "-id")
    context = {"keys": keys, "form": form or ApiKeyForm(role=request.role), "raw": raw}
    return render(request, "core/api_keys.html", context, status=status)


NEW_KEY = "new_api_key"


@require_GET
@workspace_view()
def api_key_list(request):
    raw = request.session.pop(NEW_KEY, None)
    response = _page(request, raw=raw)
    if raw:
        response["Cache-Control"] = "no-store"  # the secret is shown once, never cached
    return response


@require_POST
@workspace_view(min_role=Role.EDITOR)
def api_key_create(request):
    form = ApiKeyForm(request.POST, role=request.role)
    if not form.is_valid():
        return _page(request, form, status=422)
    key, raw = form.issue(request.workspace)
    # Shown by the next page only: the key is stored hashed and never shown again.
    request.session[NEW_KEY] = raw
    return redirect("api_key_list", request.workspace.slug)


@require_POST
@workspace_view(min_role=Role.EDITOR)
def api_key_revoke(request, key_id):
    key = get_object_or_404(ApiKey, id=key_id, workspace=request.workspace)
    if key.revoked_at is None:
        key.revoke()
        messages.success(request, f"Key “{key.name}” was revoked; requests with it now get 401.")
    return redirect("api_key_list", request.workspace.slug)
