"""`/api/v1/api-keys`: the workspace's keys; a new key's secret is in the one answer that
created it. A key never makes a key that may do more than itself, as a member never
makes one that may do more than they may."""

from datetime import datetime

from ninja import Field, Router, Schema

from core.api.auth import require_editor
from core.api.errors import ApiError
from core.api.lookup import one_or_404
from core.api.schemas import ERRORS, READ_ERRORS, Strict
from core.models import ApiKey, Role
from core.web.forms import ApiKeyForm

router = Router(tags=["api-keys"])


class ApiKeyIn(Strict):
    name: str = Field(max_length=100, description="Where the key is used")
    role: Role = Field(Role.EDITOR, description="At most the role of the key that creates it")


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it by")
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewApiKeyOut(ApiKeyOut):
    key: str = Field(description="The key itself: in this answer only, never again")


def key_out(key):
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "role": key.role,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


@router.get(
    "",
    response={200: list[ApiKeyOut], **READ_ERRORS},
    summary="The workspace's API keys",
    description="Active keys first, newest first; never the keys themselves.",
    operation_id="listApiKeys",
)
def list_keys(request):
    keys = ApiKey.objects.filter(workspace=request.workspace).order_by("revoked_at", "-id")
    return [key_out(key) for key in keys]


@router.post(
    "",
    response={201: NewApiKeyOut, **ERRORS},
    summary="Create an API key",
    description="The answer holds the key, once; store it then. 422 for a role above the "
    "role of the key that asks.",
    operation_id="createApiKey",
)
def create_key(request, payload: ApiKeyIn):
    require_editor(request)
    form = ApiKeyForm(payload.model_dump(), role=request.role)
    if not form.is_valid():
        fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        raise ApiError(422, "The key is invalid", fields=fields)
    key, raw = form.issue(request.workspace)
    return 201, {**key_out(key), "key": raw}


@router.post(
    "/{key_id}/revoke",
    response={200: ApiKeyOut, **ERRORS},
    summary="Revoke an API key",
    description="Requests with it get 401 from then on. Revoking a revoked key changes nothing.",
    operation_id="revokeApiKey",
)
def revoke_key(request, key_id: int):
    require_editor(request)
    key = one_or_404(ApiKey.objects.filter(workspace=request.workspace), key_id)
    if key.revoked_at is None:
        key.revoke()
    return key_out(key)
