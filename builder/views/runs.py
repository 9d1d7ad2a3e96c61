"""Starting a run of a published version from the builder, with a form made from its schema."""

import json

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from builder.views.common import get_workflow
from core.errors import InvalidInput
from core.models import Role
from core.web import started_runs
from core.web.schema_form import WHOLE, SchemaForm
from core.workspaces import workspace_view
from runner import launch


@workspace_view(min_role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def run_workflow(request, slug):
    """GET `?version=N` picks the version (default: the latest); POST starts the run."""
    workflow = get_workflow(request, slug)
    history = list(workflow.versions.order_by("-number"))
    if not history or workflow.archived_at:
        return render(request, "builder/run.html", {"workflow": workflow, "form": None})
    version = _chosen(history, request.POST.get("version") or request.GET.get("version"))
    schema = version.definition.get("input_schema") or {}
    form = SchemaForm(schema, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            run = launch.start_run(
                workspace=request.workspace,
                definition=version.definition,
                input=form.value,
                workflow=workflow,
                workflow_version=version,
                user=request.user,
            )
        except InvalidInput as error:
            _attach(form, error.fields)
        else:
            started_runs.remember(request, run.id)
            return redirect("run_detail", request.workspace.slug, run.id)
    context = {
        "workflow": workflow,
        "form": form,
        "history": history,
        "version": version,
        "schema_text": json.dumps(schema, indent=2) if schema else "",
    }
    status = 422 if form.errors else 200
    return render(request, "builder/run.html", context, status=status)


def _chosen(history, raw):
    if raw in (None, ""):
        return history[0]
    for version in history:
        if str(version.number) == raw:
            return version
    raise Http404("No such version")


def _attach(form, fields):
    """The engine's `input.email` errors, onto the form field they are about."""
    for path, messages in fields.items():
        rest = path.removeprefix("input").lstrip(".")
        head = rest.split(".")[0].split("[")[0]
        field = WHOLE if form.whole else (head if head in form.fields else None)
        where = rest if field in (WHOLE, None) or rest != head else ""
        for message in messages:
            form.add_error(field, f"{where}: {message}" if where else message)
