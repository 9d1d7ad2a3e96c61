"""The action catalogue: every action with its versions and schema, a run form generated
from the schema, and forms for a workspace's own HTTP (and, for staff, script) actions."""

from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, F, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from core.actions.registry import run_form_hints
from core.errors import FieldErrors
from core.models import Action, ActionKind, Role
from core.web import started_runs
from core.web.action_forms import FORMS
from core.web.schema_form import WHOLE, SchemaForm
from core.workspaces import workspace_view
from runner import action_runs
from runner.listing import light_runs
from runner.models import Run, StepRun
from runner.states import StepKind, StepStatus, Trigger

STATS_DAYS = 7


def visible_actions(workspace):
    return Action.objects.filter(Q(workspace__isnull=True) | Q(workspace=workspace))


def get_action(request, name):
    """The built-in or this workspace's action called `name`; 404 otherwise."""
    found = visible_actions(request.workspace).filter(name=name)
    # The workspace's own before the built-in, as in the API (core/api/actions.py).
    action = found.order_by(F("workspace_id").asc(nulls_last=True)).first()
    if action is None:
        raise Http404("No such action")
    return action


def _stats(workspace, actions):
    """{action id: (finished steps, succeeded steps)} over the last days, in one query."""
    since = timezone.now() - timedelta(days=STATS_DAYS)
    rows = (
        StepRun.objects.filter(
            run__workspace=workspace,
            kind=StepKind.ACTION,
            started_at__gte=since,
            action_version__action__in=actions,
        )
        .values_list("action_version__action")
        .annotate(
            finished=Count("id", filter=Q(status__in=[StepStatus.SUCCEEDED, StepStatus.FAILED])),
            succeeded=Count("id", filter=Q(status=StepStatus.SUCCEEDED)),
        )
        .order_by()
    )
    return {action_id: (finished, succeeded) for action_id, finished, succeeded in rows}


@require_GET
@workspace_view()
def action_list(request):
    actions = list(visible_actions(request.workspace).prefetch_related("versions"))
    stats = _stats(request.workspace, actions)
    rows = []
    for action in actions:
        versions = sorted(action.versions.all(), key=lambda v: -v.version)
        finished, succeeded = stats.get(action.id, (0, 0))
        rows.append(
            {
                "action": action,
                "latest": versions[0] if versions else None,
                "count": len(versions),
                "runs": finished,
                "rate": round(100 * succeeded / finished) if finished else None,
            }
        )
    context = {"rows": rows, "days": STATS_DAYS, "is_staff": request.user.is_staff}
    return render(request, "core/actions.html", context)


@require_GET
@workspace_view()
def action_detail(request, name):
    action = get_action(request, name)
    versions = list(action.versions.select_related("created_by").order_by("-version"))
    if not versions:
        raise Http404("This action has no version")
    shown = versions[0]
    if request.GET.get("version", "").isdigit():
        shown = next((v for v in versions if v.version == int(request.GET["version"])), shown)
    finished, succeeded = _stats(request.workspace, [action]).get(action.id, (0, 0))
    recent = light_runs(
        Run.objects.filter(
            workspace=request.workspace,
            id__in=StepRun.objects.filter(
                run__workspace=request.workspace, action_version__action=action
            ).values("run_id"),
        )
    ).order_by("-id")[:10]
    schema = shown.input_schema or {}
    context = {
        "action": action,
        "versions": versions,
        "shown": shown,
        "properties": _properties(schema),
        "recent": recent,
        "finished": finished,
        "rate": round(100 * succeeded / finished) if finished else None,
        "days": STATS_DAYS,
        "can_version": _can_define(request, shown.kind) and not action.is_builtin,
    }
    return render(request, "core/action_detail.html", context)


@require_http_methods(["GET", "POST"])
@workspace_view(min_role=Role.EDITOR)
def action_run(request, name):
    """A form generated from the schema; a valid input starts a one-step run of it."""
    action = get_action(request, name)
    version = action.latest_version()
    if version is None:
        raise Http404("This action has no version")
    form = SchemaForm(
        version.input_schema,
        request.POST if request.method == "POST" else None,
        **run_form_hints(version),
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = action_runs.start(
                version,
                form.value,
                workspace=request.workspace,
                trigger=Trigger.MANUAL,
                user=request.user,
            )
        except FieldErrors as invalid:
            _attach(form, invalid.fields)
        else:
            started_runs.remember(request, run.id)
            return redirect("run_detail", request.workspace.slug, run.id)
    context = {"action": action, "version": version, "form": form, "whole": form.whole}
    return render(request, "core/action_run.html", context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@workspace_view(min_role=Role.EDITOR)
def action_new(request, kind):
    if kind not in FORMS or not _can_define(request, kind):
        raise Http404("No such kind of action")
    form = FORMS[kind](
        request.POST if request.method == "POST" else None, workspace=request.workspace
    )
    if request.method == "POST" and form.is_valid():
        version = form.save(request.user)
        if version is not None:
            messages.success(request, f"Created {version.ref}.")
            return redirect("action_detail", request.workspace.slug, version.action.name)
    context = {"form": form, "kind": kind, "action": None}
    return render(request, "core/action_form.html", context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@workspace_view(min_role=Role.EDITOR)
def action_version_new(request, name):
    action = get_object_or_404(Action, workspace=request.workspace, name=name)
    latest = action.latest_version()
    if latest is None or latest.kind not in FORMS or not _can_define(request, latest.kind):
        raise Http404("This action cannot be versioned here")
    form_class = FORMS[latest.kind]
    form = form_class(
        request.POST if request.method == "POST" else None,
        workspace=request.workspace,
        action=action,
        initial=form_class.initial_from(latest),
    )
    if request.method == "POST" and form.is_valid():
        version = form.save(request.user)
        messages.success(
            request, f"Saved {version.ref}; runs pinned to earlier versions keep them."
        )
        return redirect("action_detail", request.workspace.slug, action.name)
    context = {"form": form, "kind": latest.kind, "action": action, "latest": latest}
    return render(request, "core/action_form.html", context, status=422 if form.errors else 200)


def _can_define(request, kind):
    """Editors define HTTP actions; scripts run commands on the workers, so staff only."""
    if kind == ActionKind.SCRIPT:
        return request.user.is_staff
    return kind == ActionKind.HTTP


def _attach(form, fields):
    """Put validator messages (`steps[0].input.to`, `input.to`) on the form's fields."""
    for path, found in fields.items():
        rest = path.removeprefix("steps[0].input").removeprefix("input").lstrip(".")
        head = rest.split(".")[0].split("[")[0]
        if form.whole:
            field, where = WHOLE, rest
        elif head in form.fields:
            field, where = head, "" if rest == head else rest
        else:
            field, where = None, rest
        for message in found:
            form.add_error(field, f"{where}: {message}" if where else message)


def _properties(schema):
    """The schema's top-level properties as rows for the catalogue page."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return []
    required = set(schema.get("required") or [])
    rows = []
    for name, spec in properties.items():
        spec = spec if isinstance(spec, dict) else {}
        kind = spec.get("type", "any")
        rows.append(
            {
                "name": name,
                "type": " | ".join(kind) if isinstance(kind, list) else kind,
                "required": name in required,
                "enum": spec.get("enum"),
                "default": spec.get("default"),
                "has_default": "default" in spec,
                "description": spec.get("description", ""),
            }
        )
    return rows
