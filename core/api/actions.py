"""`/api/v1/actions`: the catalogue, a workspace's own actions and their versions, and
running one action as a managed service."""

import re
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q
from django.http import Http404
from ninja import Body, Field, Header, Router, Schema

from core.api import action_bodies
from core.api.action_bodies import ActionIn, ActionVersionIn
from core.api.auth import require_editor
from core.api.errors import ApiError
from core.api.launch import launch
from core.api.schemas import ERRORS, READ_ERRORS, RunIn, RunOut
from core.models import Action, ActionVersion
from runner import action_runs

router = Router(tags=["actions"])
NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


class ActionFields(Schema):
    """What the catalogue and a version's page both say of an action."""

    name: str
    version: int
    kind: str
    description: str
    builtin: bool
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    retry_policy: dict[str, Any]
    timeout_s: float


class ActionOut(ActionFields):
    versions: list[int]


class ActionVersionOut(ActionFields):
    config: dict[str, Any] = Field(description="http: the request template; script: the command")
    created_at: datetime


def visible_actions(workspace):
    """Built-ins and the workspace's own actions, each with its versions newest first."""
    newest_first = ActionVersion.objects.order_by("-version")
    return Action.objects.filter(
        Q(workspace__isnull=True) | Q(workspace=workspace)
    ).prefetch_related(Prefetch("versions", queryset=newest_first))


@router.get(
    "",
    response={200: list[ActionOut], **READ_ERRORS},
    summary="The action catalogue",
    operation_id="listActions",
)
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
    operation_id="runAction",
)
def run_action(
    request,
    name: str,
    payload: RunIn = Body(default_factory=RunIn),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    require_editor(request)
    version = _action_version(request.workspace, name, payload.version)
    return launch(
        request,
        payload,
        idempotency_key,
        lambda: action_runs.start(version, payload.input, workspace=request.workspace),
    )


def _action_version(workspace, name, number):
    """The workspace's own action of that name, else the built-in one; 404 when neither."""
    action = _visible_action(workspace, name)
    versions = list(action.versions.all())
    if number is None:
        return versions[0]
    for version in versions:
        if version.version == number:
            return version
    raise ApiError(422, f"{name} has no version {number}", fields={"version": ["no such version"]})


def version_out(version):
    action = version.action
    return {
        "name": action.name,
        "version": version.version,
        "kind": version.kind,
        "description": action.description,
        "builtin": action.is_builtin,
        "input_schema": version.input_schema,
        "output_schema": version.output_schema,
        "retry_policy": version.retry_policy,
        "timeout_s": version.timeout_s,
        "config": version.config or {},
        "created_at": version.created_at,
    }


@router.post(
    "",
    response={201: ActionVersionOut, **ERRORS},
    summary="Define an action",
    description="A workspace's own HTTP action and its version 1, checked as the page's "
    "form checks it (422 with field errors). Left-out fields take the form's defaults. "
    "`script` actions run commands on the workers: only staff define them, in the browser "
    "(403 here).",
    operation_id="createAction",
)
def create_action(request, payload: ActionIn):
    require_editor(request)
    return 201, version_out(action_bodies.save(request, payload, kind=payload.kind))


@router.get(
    "/{name}/versions",
    response={200: list[ActionVersionOut], **READ_ERRORS},
    summary="An action's versions, newest first",
    operation_id="listActionVersions",
)
def list_versions(request, name: str):
    return [version_out(v) for v in _visible_action(request.workspace, name).versions.all()]


@router.get(
    "/{name}/versions/{version}",
    response={200: ActionVersionOut, **READ_ERRORS},
    summary="One version of an action",
    operation_id="getActionVersion",
)
def get_version(request, name: str, version: int):
    for found in _visible_action(request.workspace, name).versions.all():
        if found.version == version:
            return version_out(found)
    raise Http404


@router.post(
    "/{name}/versions",
    response={201: ActionVersionOut, **ERRORS},
    summary="Save an action's next version",
    description="The workspace's own action only (built-ins are versioned in code). Fields "
    "left out keep the latest version's values; runs pinned to earlier versions keep them.",
    operation_id="createActionVersion",
)
def create_version(request, name: str, payload: ActionVersionIn):
    require_editor(request)
    action = _visible_action(request.workspace, name)
    latest = next(iter(action.versions.all()), None)
    if action.is_builtin or latest is None or latest.kind not in action_bodies.FORMS:
        raise Http404  # as on the page: only the workspace's own HTTP and script actions
    return 201, version_out(
        action_bodies.save(request, payload, kind=latest.kind, action=action, latest=latest)
    )


def _visible_action(workspace, name):
    """The workspace's own action of that name, else the built-in one; 404 when neither."""
    if not NAME.match(name) or len(name) > 100:
        raise Http404
    found = [a for a in visible_actions(workspace).filter(name=name) if a.versions.all()]
    if not found:
        raise Http404
    return min(found, key=lambda a: a.workspace_id is None)  # own before built-in
