"""Starting a run of a published version from the builder, with an input form."""

import json

from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from builder.draft import starter_input
from builder.forms import RunForm
from builder.views.common import get_workflow
from core.errors import InvalidInput
from core.models import Role
from core.workspaces import workspace_view
from runner import engine


@workspace_view(min_role=Role.EDITOR)
@require_http_methods(["GET", "POST"])
def run_workflow(request, slug):
    workflow = get_workflow(request, slug)
    history = list(workflow.versions.order_by("-number"))
    if not history:
        return render(request, "builder/run.html", {"workflow": workflow, "form": None}, status=200)
    latest = history[0]
    initial = {
        "version": latest.number,
        "input": json.dumps(starter_input(latest.definition.get("input_schema")), indent=2),
    }
    form = RunForm(request.POST or None, initial=initial, versions=history)
    input_errors, status = [], 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            version = next(v for v in history if v.number == form.cleaned_data["version"])
            try:
                run = engine.start_run(
                    workspace=request.workspace,
                    definition=version.definition,
                    input=form.cleaned_data["input"],
                    workflow=workflow,
                    workflow_version=version,
                    user=request.user,
                )
            except InvalidInput as error:
                input_errors = [
                    f"{path}: {message}" if path not in ("", "input") else message
                    for path, messages in sorted(error.fields.items())
                    for message in messages
                ]
                form.add_error("input", "The input does not match the workflow's input schema.")
            else:
                return redirect("run_detail", request.workspace.slug, run.id)
    schema = next(
        (v.definition.get("input_schema") for v in history if v.number == _chosen(form, latest)),
        None,
    )
    context = {
        "workflow": workflow,
        "form": form,
        "input_errors": input_errors,
        "schema_text": json.dumps(schema, indent=2) if schema else "",
    }
    return render(request, "builder/run.html", context, status=status)


def _chosen(form, latest):
    try:
        return int(form.data.get("version", latest.number))
    except (TypeError, ValueError):
        return latest.number
