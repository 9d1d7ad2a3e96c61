"""`/api/v1/workflows`: the list; the definition as JSON (import/export); starting runs;
archiving and deleting.

An archived workflow keeps its versions, runs and webhooks but starts no new run (409),
and its webhooks refuse deliveries; unarchived, it runs again. Only an archived workflow
can be deleted: its runs stay, with their pinned definitions, under no workflow.
"""

import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404
from ninja import Body, Field, Header, Query, Router, Schema

from builder.definition import validate
from builder.models import Workflow
from core.api.auth import require_editor
from core.api.errors import ApiError
from core.api.launch import launch
from core.api.schemas import ERRORS, JSON_OBJECT, READ_ERRORS, RunIn, RunOut
from core.audit import delete_recorded, record
from runner.launch import start_run
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
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WorkflowSummaryOut(Schema):
    slug: str
    name: str
    description: str
    latest_version: int | None = Field(description="The latest published version's number")
    archived_at: datetime | None
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
        "archived_at": workflow.archived_at,
        "created_at": workflow.created_at,
        "updated_at": workflow.updated_at,
    }


@router.get(
    "",
    response={200: list[WorkflowSummaryOut], **READ_ERRORS},
    summary="List workflows",
    description="By name; archived workflows only with `archived=true` (and then only they).",
    operation_id="listWorkflows",
)
def list_workflows(request, archived: bool = Query(False)):
    workflows = (
        Workflow.objects.filter(workspace=request.workspace, archived_at__isnull=not archived)
        .annotate(latest_number=Max("versions__number"))
        .order_by("name", "slug")
    )
    return [
        {
            "slug": workflow.slug,
            "name": workflow.name,
            "description": workflow.description,
            "latest_version": workflow.latest_number,
            "archived_at": workflow.archived_at,
            "created_at": workflow.created_at,
            "updated_at": workflow.updated_at,
        }
        for workflow in workflows
    ]


@router.get(
    "/{slug}",
    response={200: WorkflowOut, **READ_ERRORS},
    summary="A workflow",
    operation_id="getWorkflow",
)
def get(request, slug: str):
    return workflow_out(get_workflow(request.workspace, slug))


@router.put(
    "/{slug}",
    response={200: WorkflowOut, 201: WorkflowOut, **ERRORS},
    summary="Import a definition",
    description="Validates the definition (422 with field errors) and stores it as the "
    "draft, creating the workflow when needed (201). With `?publish=1` it is also published "
    "as the next version, unless the latest version is already the same.",
    operation_id="importWorkflow",
)
def put(
    request,
    slug: str,
    definition: dict[str, Any] = Body(..., description="The definition: name, steps, ..."),
    publish: bool = Query(False),
):
    require_editor(request)
    if not SLUG.match(slug):
        raise ApiError(422, "Invalid slug", fields={"slug": ["1-100 letters, digits, - or _"]})
    normalized = checked(definition, request.workspace, slug)
    name, description = definition.get("name") or "", definition.get("description") or ""
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
            record("workflow.import", request.workspace, workflow, data={"created": created})
            if publish:
                latest = workflow.latest_version()
                if latest is None or latest.definition != normalized:
                    workflow.publish(normalized, note="published through the API")
    except IntegrityError:  # a concurrent PUT created it first
        raise ApiError(409, "The workflow was created concurrently; retry", code="conflict")
    return (201 if created else 200), workflow_out(workflow)


def checked(definition, workspace, slug=None):
    """The normalized definition; 422 with field errors, as the import page shows them."""
    normalized = validate(definition, workspace, slug)
    name, description = definition.get("name") or "", definition.get("description") or ""
    if len(name) > 200 or not isinstance(description, str):
        fields = {"name": ["at most 200 characters"]} if len(name) > 200 else {}
        if not isinstance(description, str):
            fields["description"] = ["must be a string"]
        raise ApiError(422, "The workflow definition is invalid", fields=fields)
    return normalized


class CheckedOut(Schema):
    definition: JSON_OBJECT = Field(description="As it would be published")


@router.post(
    "/{slug}/validate",
    response={200: CheckedOut, **ERRORS},
    summary="Check a definition without saving it",
    description="200 with the definition as it would be published, or 422 with the field "
    "errors the import would give.",
    operation_id="validateWorkflow",
)
def validate_definition(
    request,
    slug: str,
    definition: dict[str, Any] = Body(..., description="The definition: name, steps, ..."),
):
    require_editor(request)
    get_workflow(request.workspace, slug)
    return {"definition": checked(definition, request.workspace, slug)}


@router.get(
    "/{slug}/versions",
    response={200: list[VersionOut], **READ_ERRORS},
    summary="A workflow's published versions, newest first",
    operation_id="listWorkflowVersions",
)
def list_versions(request, slug: str):
    workflow = get_workflow(request.workspace, slug)
    return list(workflow.versions.order_by("-number"))


@router.get(
    "/{slug}/versions/{number}",
    response={200: VersionOut, **READ_ERRORS},
    summary="One published version",
    description="To restore it, import its definition as the draft.",
    operation_id="getWorkflowVersion",
)
def get_version(request, slug: str, number: int):
    workflow = get_workflow(request.workspace, slug)
    version = workflow.versions.filter(number=number).first() if 0 < number < 2**31 else None
    if version is None:
        raise Http404
    return version


@router.post(
    "/{slug}/runs",
    response={200: RunOut, 202: RunOut, **ERRORS},
    summary="Run a workflow",
    description="Runs the latest published version (or `version`). 409 when nothing is "
    "published yet or the workflow is archived; 422 when the input does not match the "
    "definition's `input_schema`.",
    operation_id="startWorkflowRun",
)
def run_workflow(
    request,
    slug: str,
    payload: RunIn = Body(default_factory=RunIn),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    require_editor(request)
    workflow = get_workflow(request.workspace, slug)
    if workflow.archived_at:
        raise ApiError(409, "The workflow is archived; unarchive it first", code="archived")
    versions = workflow.versions.order_by("-number")
    if payload.version is not None:
        versions = versions.filter(number=payload.version)
    version = versions.first()
    if version is None and payload.version is not None:
        raise ApiError(422, "No such version", fields={"version": ["no such version"]})
    if version is None:
        raise ApiError(409, "The workflow has no published version", code="not_published")

    def start():
        return start_run(
            workspace=request.workspace,
            definition=version.definition,
            input=payload.input,
            trigger=Trigger.API,
            workflow=workflow,
            workflow_version=version,
        )

    return launch(request, payload, idempotency_key, start)


@router.post(
    "/{slug}/archive",
    response={200: WorkflowOut, **ERRORS},
    summary="Archive a workflow",
    description="It starts no new run (API, webhooks) until unarchived; runs under way go "
    "on. Archiving an archived workflow changes nothing.",
    operation_id="archiveWorkflow",
)
def archive(request, slug: str):
    require_editor(request)
    workflow = get_workflow(request.workspace, slug)
    workflow.set_archived(True)
    return workflow_out(workflow)


@router.post(
    "/{slug}/unarchive",
    response={200: WorkflowOut, **ERRORS},
    summary="Unarchive a workflow",
    operation_id="unarchiveWorkflow",
)
def unarchive(request, slug: str):
    require_editor(request)
    workflow = get_workflow(request.workspace, slug)
    workflow.set_archived(False)
    return workflow_out(workflow)


@router.delete(
    "/{slug}",
    response={204: None, **ERRORS},
    summary="Delete an archived workflow",
    description="With its versions and webhooks. Its runs stay, with the definitions they "
    "ran, and list under no workflow. 409 unless the workflow is archived first.",
    operation_id="deleteWorkflow",
)
def delete(request, slug: str):
    require_editor(request)
    workflow = get_workflow(request.workspace, slug)
    if workflow.archived_at is None:
        raise ApiError(409, "Archive the workflow before deleting it", code="not_archived")
    delete_recorded("workflow", request.workspace, workflow)
    return 204, None
