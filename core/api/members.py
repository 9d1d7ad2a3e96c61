"""`/api/v1/members`: who is in the workspace with which role; owner keys add, change and
remove people, as owners do on the members page. A workspace keeps at least one owner."""

from datetime import datetime

from django.db import transaction
from ninja import Field, Router, Schema

from core.api.auth import require
from core.api.errors import ApiError
from core.api.lookup import one_or_404
from core.api.schemas import ERRORS, READ_ERRORS, Strict
from core.models import Membership, Role, Workspace
from core.web.forms import MemberForm

router = Router(tags=["members"])


class MemberIn(Strict):
    username: str = Field(max_length=150, description="Someone who has signed up already")
    role: Role = Role.EDITOR


class RoleIn(Strict):
    role: Role


class MemberOut(Schema):
    id: int
    username: str
    role: Role
    created_at: datetime


def member_out(membership):
    return {
        "id": membership.id,
        "username": membership.user.username,
        "role": membership.role,
        "created_at": membership.created_at,
    }


def get_member(workspace, member_id):
    members = Membership.objects.select_related("user", "workspace")
    return one_or_404(members.filter(workspace=workspace), member_id)


@router.get(
    "",
    response={200: list[MemberOut], **READ_ERRORS},
    summary="The members and their roles",
    operation_id="listMembers",
)
def list_members(request):
    members = Membership.objects.filter(workspace=request.workspace).select_related("user")
    return [member_out(m) for m in members.order_by("user__username")]


@router.post(
    "",
    response={201: MemberOut, **ERRORS},
    summary="Add a member",
    description="An owner key adds someone who has an account, with a role.",
    operation_id="addMember",
)
def add_member(request, payload: MemberIn):
    require(request, Role.OWNER)
    form = MemberForm(payload.model_dump(), workspace=request.workspace)
    if not form.is_valid():
        fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        raise ApiError(422, "The member cannot be added", fields=fields)
    membership = Membership.add(request.workspace, form.user, form.cleaned_data["role"])
    return 201, member_out(membership)


@router.patch(
    "/{member_id}",
    response={200: MemberOut, **ERRORS},
    summary="Change a member's role",
    description="409 when it would leave the workspace without an owner.",
    operation_id="changeMemberRole",
)
def change_role(request, member_id: int, payload: RoleIn):
    require(request, Role.OWNER)
    with transaction.atomic():
        membership = _locked(request.workspace, member_id)
        if payload.role != Role.OWNER and membership.is_last_owner():
            raise ApiError(409, "A workspace keeps at least one owner", code="last_owner")
        membership.change_role(payload.role)
    return member_out(membership)


@router.delete(
    "/{member_id}",
    response={204: None, **ERRORS},
    summary="Remove a member",
    description="409 for the last owner.",
    operation_id="removeMember",
)
def remove_member(request, member_id: int):
    require(request, Role.OWNER)
    with transaction.atomic():
        membership = _locked(request.workspace, member_id)
        if membership.is_last_owner():
            raise ApiError(409, "A workspace keeps at least one owner", code="last_owner")
        membership.remove()
    return 204, None


def _locked(workspace, member_id):
    """The membership, with the workspace's row locked: two owners demoting each other at
    once must not both see the other one still an owner."""
    Workspace.objects.select_for_update().filter(id=workspace.id).first()
    return get_member(workspace, member_id)
