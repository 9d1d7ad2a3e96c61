"""Secrets: everyone sees the names and which workflows use them; editors add, replace and
delete. A value is write-only: no page ever shows it, not even after a form error."""

from collections import defaultdict

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from builder.models import WorkflowVersion
from core import references
from core.models import Role, Secret
from core.web.forms import SecretForm, SecretValueForm
from core.workspaces import can_edit, workspace_view


def _usage(workspace):
    """{secret name: [workflow, ...]} read from each workflow's latest published version.

    One query, one version per workflow: the latest is what new runs start on, and reading
    every old version would grow with the history instead of with the workflows.
    """
    latest = (
        WorkflowVersion.objects.filter(workflow=OuterRef("workflow"))
        .order_by("-number")
        .values("number")[:1]
    )
    versions = (
        WorkflowVersion.objects.filter(workflow__workspace=workspace, number=Subquery(latest))
        .select_related("workflow")
        .order_by("workflow__name")
    )
    used = defaultdict(list)
    for version in versions:
        names = {
            path.split(".")[1]
            for _, path in references.find(version.definition)
            if path.startswith("secrets.")
        }
        for name in sorted(names):
            used[name].append(version.workflow)
    return used


def _get_secret(request, name):
    """The workspace's secret of that name; 404 also for a name no secret can have (a NUL
    byte in it would make PostgreSQL refuse the query)."""
    if Secret.check_name(name):
        raise Http404("No such secret")
    return get_object_or_404(Secret, workspace=request.workspace, name=name)


def _page(request, form=None, replacing=None, value_form=None, status=200):
    secrets = Secret.objects.filter(workspace=request.workspace).order_by("name")
    used = _usage(request.workspace)
    rows = [{"secret": s, "workflows": used.get(s.name, [])} for s in secrets]
    names = {row["secret"].name for row in rows}
    context = {
        "rows": rows,
        "missing": [(name, used[name]) for name in sorted(used) if name not in names],
        "form": form or SecretForm(workspace=request.workspace),
        "replacing": replacing,
        "value_form": value_form or SecretValueForm(),
    }
    return render(request, "core/secrets.html", context, status=status)


@require_GET
@workspace_view()
def secret_list(request):
    replacing = None
    name = request.GET.get("replace", "")
    if can_edit(request) and name and not Secret.check_name(name):  # no query for a bad name
        replacing = Secret.objects.filter(workspace=request.workspace, name=name).first()
    return _page(request, replacing=replacing)


@require_POST
@sensitive_post_parameters("value")
@workspace_view(min_role=Role.EDITOR)
def secret_add(request):
    form = SecretForm(request.POST, workspace=request.workspace)
    if not form.is_valid():
        return _page(request, form=form, status=422)
    name = form.cleaned_data["name"]
    Secret.set(request.workspace, name, form.cleaned_data["value"])
    messages.success(request, f"Secret {name} saved. Steps use it as {{{{ secrets.{name} }}}}.")
    return redirect("secrets", request.workspace.slug)


@require_POST
@sensitive_post_parameters("value")
@workspace_view(min_role=Role.EDITOR)
def secret_replace(request, name):
    secret = _get_secret(request, name)
    form = SecretValueForm(request.POST)
    if not form.is_valid():
        return _page(request, replacing=secret, value_form=form, status=422)
    Secret.set(request.workspace, secret.name, form.cleaned_data["value"])
    messages.success(request, f"{name} has a new value; steps that start from now on use it.")
    return redirect("secrets", request.workspace.slug)


@require_POST
@workspace_view(min_role=Role.EDITOR)
def secret_delete(request, name):
    secret = _get_secret(request, name)
    secret.remove()
    messages.success(request, f"Secret {name} was deleted.")
    return redirect("secrets", request.workspace.slug)
