"""Members and roles: everyone sees who is in, owners add, change and remove people."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.models import Membership, Role
from core.web.forms import MemberForm, RoleForm
from core.workspaces import workspace_view


def _page(request, form=None, status=200):
    members = (
        Membership.objects.filter(workspace=request.workspace)
        .select_related("user")
        .order_by("user__username")
    )
    context = {
        "members": members,
        "form": form or MemberForm(workspace=request.workspace),
        "is_owner": request.role == Role.OWNER,
        "roles": Role.choices,
    }
    return render(request, "core/members.html", context, status=status)


@require_GET
@workspace_view()
def member_list(request):
    return _page(request)


@require_POST
@workspace_view(min_role=Role.OWNER)
def member_add(request):
    form = MemberForm(request.POST, workspace=request.workspace)
    if not form.is_valid():
        return _page(request, form, status=422)
    Membership.add(request.workspace, form.user, form.cleaned_data["role"])
    messages.success(request, f"{form.user.username} joined as {form.cleaned_data['role']}.")
    return redirect("member_list", request.workspace.slug)


@require_POST
@workspace_view(min_role=Role.OWNER)
def member_role(request, member_id):
    membership = get_object_or_404(Membership, id=member_id, workspace=request.workspace)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, editor or viewer.")
    elif form.cleaned_data["role"] != Role.OWNER and membership.is_last_owner():
        messages.error(request, "A workspace keeps at least one owner.")
    else:
        membership.change_role(form.cleaned_data["role"])
        messages.success(request, f"{membership.user.username} is now {membership.role}.")
    return redirect("member_list", request.workspace.slug)


@require_POST
@workspace_view(min_role=Role.OWNER)
def member_remove(request, member_id):
    membership = get_object_or_404(Membership, id=member_id, workspace=request.workspace)
    if membership.is_last_owner():
        messages.error(request, "A workspace keeps at least one owner.")
    else:
        membership.remove()
        messages.success(request, f"{membership.user.username} was removed.")
    return redirect("member_list", request.workspace.slug)
