"""`/api/v1/secrets`: the workspace's secrets by name. Values go in and never come out."""

from datetime import datetime

from django.http import Http404
from ninja import Field, Router, Schema

from core.api.auth import require_editor
from core.api.errors import ApiError
from core.api.schemas import ERRORS, READ_ERRORS, Strict
from core.models import Secret

router = Router(tags=["secrets"])


class SecretIn(Strict):
    value: str = Field(
        description="At most 8 KiB; write-only: no endpoint ever answers with it",
        json_schema_extra={"writeOnly": True},
    )


class SecretOut(Schema):
    name: str
    updated_at: datetime


@router.get(
    "",
    response={200: list[SecretOut], **READ_ERRORS},
    summary="The secrets' names",
    operation_id="listSecrets",
)
def list_secrets(request):
    secrets = Secret.objects.filter(workspace=request.workspace).order_by("name")
    return list(secrets.values("name", "updated_at"))


@router.put(
    "/{name}",
    response={200: SecretOut, 201: SecretOut, **ERRORS},
    summary="Set a secret",
    description="Creates the secret (201) or replaces its value (200). Steps use it as "
    "`{{ secrets.NAME }}`; the value is stored encrypted.",
    operation_id="setSecret",
)
def put_secret(request, name: str, payload: SecretIn):
    require_editor(request)
    fields = {}
    if problems := Secret.check_name(name):
        fields["name"] = problems
    if problems := Secret.check_value(payload.value):
        fields["value"] = problems
    if fields:
        raise ApiError(422, "The secret is invalid", fields=fields)
    secret, created = Secret.set(request.workspace, name, payload.value)
    return (201 if created else 200), {"name": secret.name, "updated_at": secret.updated_at}


@router.delete(
    "/{name}",
    response={204: None, **ERRORS},
    summary="Delete a secret",
    operation_id="deleteSecret",
)
def delete_secret(request, name: str):
    require_editor(request)
    if Secret.check_name(name):
        raise Http404  # no secret has that name (and PostgreSQL refuses a NUL in a query)
    secret = Secret.objects.filter(workspace=request.workspace, name=name).first()
    if secret is None:
        raise Http404
    secret.remove()
    return 204, None
