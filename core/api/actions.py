"""`/api/v1/actions`: the catalogue, and running one action as a managed service."""

import re
from typing import Any

from django.db.models import Prefetch, Q
from django.http import Http404
from ninja import Body, Header, Router, Schema

from core.api.errors import ApiError
from core.api.launch import launch
from core.api.schemas import ERRORS, READ_ERRORS, RunIn, RunOut
from core.models import Action, ActionVersion
from runner import action_runs

router = Router(tags=["actions"])
NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


class ActionOut(Schema):
    name: str
    version: int
    kind: str
    description: str
    builtin: bool
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    retry_policy: dict[str, Any]
    timeout_s: float
    versions: list[int]


def visible_actions(workspace):
    """Built-ins and the workspace's own actions, each with its versions newest first."""
    newest_first = ActionVersion.objects.order_by("-version")
    return Action.objects.filter(
        Q(workspace__isnull=True) | Q(workspace=workspace)
    ).prefetch_related(Prefetch("versions", queryset=newest_first))


@router.get("", response={200: list[ActionOut], **READ_ERRORS}, summary="The action catalogue")
def list_actions(request):
    catalogue = []
    for action in visible_actions(request.workspace).order_by("name", "workspace_id"):
        versions = list(action.versions.all())
        if not versions:
            continue
        latest = versions[0]
        catalogue.append(
            {
                "name": action.name,
                "version": latest.version,
                "kind": latest.kind,
                "description": action.description,
                "builtin": action.is_builtin,
                "input_schema": latest.input_schema,
                "output_schema": latest.output_schema,
                "retry_policy": latest.retry_policy,
                "timeout_s": latest.timeout_s,
                "versions": [v.version for v in versions],
            }
        )
    return catalogue


@router.post(
    "/{name}/run",
    response={200: RunOut, 202: RunOut, **ERRORS},
    summary="Run one action",
    description="Starts a one-step run; the input is checked against the action's schema "
    "first (422 with field errors, no run). `Idempotency-Key` makes a retry safe.",
)
def run_action(
    request,
    name: str,
    payload: RunIn = Body(default_factory=RunIn),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    version = _action_version(request.workspace, name, payload.version)
    return launch(
        request,
        payload,
        idempotency_key,
        lambda: action_runs.start(version, payload.input, workspace=request.workspace),
    )


def _action_version(workspace, name, number):
    """The workspace's own action of that name, else the built-in one; 404 when neither."""
    if not NAME.match(name) or len(name) > 100:
        raise Http404
    found = [a for a in visible_actions(workspace).filter(name=name) if a.versions.all()]
    if not found:
        raise Http404
    action = min(found, key=lambda a: a.workspace_id is None)  # own before built-in
    versions = list(action.versions.all())
    if number is None:
        return versions[0]
    for version in versions:
        if version.version == number:
            return version
    raise ApiError(422, f"{name} has no version {number}", fields={"version": ["no such version"]})
