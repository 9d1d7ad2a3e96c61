"""`/api/v1/workflows/<slug>`: the definition as JSON (import/export), and starting runs."""

import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404
from ninja import Body, Header, Query, Router, Schema

from builder.definition import validate
from builder.models import Workflow
from core.api.errors import ApiError
from core.api.launch import launch
from core.api.schemas import ERRORS, JSON_OBJECT, READ_ERRORS, RunIn, RunOut
from runner import engine
from runner.states import Trigger

router = Router(tags=["workflows"])
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,100}$")


class VersionOut(Schema):
    number: int
    definition: JSON_OBJECT
    note: str
    created_at: datetime


class WorkflowOut(Schema):
    slug: str
    name: str
    description: str
    definition: JSON_OBJECT  # the draft
    latest_version: VersionOut | None
    created_at: datetime
    updated_at: datetime


def get_workflow(workspace, slug):
    """The workspace's workflow with this slug; 404 for any other (or a malformed slug)."""
    workflow = None
    if SLUG.match(slug):
        workflow = Workflow.objects.filter(workspace=workspace, slug=slug).first()
    if workflow is None:
        raise Http404
    return workflow


def workflow_out(workflow):
    latest = workflow.latest_version()
    return {
        "slug": workflow.slug,
        "name": workflow.name,
        "description": workflow.description,
        "definition": workflow.draft,
        "latest_version": latest
        and {
            "number": latest.number,
            "definition": latest.definition,
            "note": latest.note,
            "created_at": latest.created_at,
        },
        "created_at": workflow.created_at,
        "updated_at": workflow.updated_at,
    }


@router.get("/{slug}", response={200: WorkflowOut, **READ_ERRORS}, summary="A workflow")
def get(request, slug: str):
    return workflow_out(get_workflow(request.workspace, slug))


@router.put(
    "/{slug}",
    response={200: WorkflowOut, 201: WorkflowOut, **ERRORS},
    summary="Import a definition",
    description="Validates the definition (422 with field errors) and stores it as the "
    "draft, creating the workflow when needed (201). With `?publish=1` it is also published "
    "as the next version, unless the latest version is already the same.",
)
def put(
    request,
    slug: str,
    definition: dict[str, Any] = Body(..., description="The definition: name, steps, ..."),
    publish: bool = Query(False),
):
    if not SLUG.match(slug):
        raise ApiError(422, "Invalid slug", fields={"slug": ["1-100 letters, digits, - or _"]})
    normalized = validate(definition, request.workspace)
    name, description = definition.get("name") or "", definition.get("description") or ""
    if len(name) > 200 or not isinstance(description, str):
        fields = {"name": ["at most 200 characters"]} if len(name) > 200 else {}
        if not isinstance(description, str):
            fields["description"] = ["must be a string"]
        raise ApiError(422, "The workflow definition is invalid", fields=fields)
    try:
        with transaction.atomic():
            workflow, created = Workflow.objects.select_for_update().get_or_create(
                workspace=request.workspace,
                slug=slug,
                defaults={"name": name or slug},
            )
            workflow.draft = definition
            workflow.name = name or workflow.name
            workflow.description = description or workflow.description
            workflow.save()
            if publish:
                latest = workflow.latest_version()
                if latest is None or latest.definition != normalized:
                    workflow.publish(normalized, note="published through the API")
    except IntegrityError:  # a concurrent PUT created it first
        raise ApiError(409, "The workflow was created concurrently; retry", code="conflict")
    return (201 if created else 200), workflow_out(workflow)


@router.post(
    "/{slug}/runs",
    response={200: RunOut, 202: RunOut, **ERRORS},
    summary="Run a workflow",
    description="Runs the latest published version (or `version`). 409 when nothing is "
    "published yet; 422 when the input does not match the definition's `input_schema`.",
)
def run_workflow(
    request,
    slug: str,
    payload: RunIn = Body(default_factory=RunIn),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    workflow = get_workflow(request.workspace, slug)
    versions = workflow.versions.order_by("-number")
    if payload.version is not None:
        versions = versions.filter(number=payload.version)
    version = versions.first()
    if version is None and payload.version is not None:
        raise ApiError(422, "No such version", fields={"version": ["no such version"]})
    if version is None:
        raise ApiError(409, "The workflow has no published version", code="not_published")

    def start():
        return engine.start_run(
            workspace=request.workspace,
            definition=version.definition,
            input=payload.input,
            trigger=Trigger.API,
            workflow=workflow,
            workflow_version=version,
        )

    return launch(request, payload, idempotency_key, start)
