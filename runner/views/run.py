"""The run page: header, live timeline (polled with an event cursor), the details of a
row when it is opened, and cancel."""

import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from core.errors import InvalidTransition
from core.models import Role, Secret
from core.workspaces import can_edit, workspace_view
from runner import engine, timeline
from runner.models import Attempt, Run, StepRun


def get_run(request, run_id):
    """The run, if it belongs to the request's workspace; 404 otherwise."""
    runs = Run.objects.select_related("workflow", "workflow_version", "action", "created_by")
    return get_object_or_404(runs, id=run_id, workspace=request.workspace)


def _context(request, run, line):
    return {
        "run": run,
        "timeline": line,
        "only_failures": line.only_failures,
        "version": _version_label(run),
        "can_edit": can_edit(request),
        "oob": False,  # set, not missing: a missing variable costs an exception per step
        # Reversed once here: one `{% url %}` per row costs more than the whole row.
        "step_url": reverse("run_step", args=[request.workspace.slug, run.id]),
        "attempt_url": reverse("run_attempt", args=[request.workspace.slug, run.id]),
    }


@require_GET
@workspace_view()
def run_detail(request, run_id):
    run = get_run(request, run_id)
    only_failures = request.GET.get("only") == "failures"
    line = timeline.build(run, only_failures=only_failures)
    context = _context(request, run, line)
    context["reruns"] = list(run.reruns.order_by("id").values_list("id", flat=True)[:20])
    return without_secrets(render(request, "runner/run.html", context), request.workspace)


@require_GET
@workspace_view()
def run_timeline(request, run_id):
    """The steps touched since event `after`, as out-of-band swaps; stops once finished."""
    run = get_run(request, run_id)
    try:
        after = max(int(request.GET.get("after", "0")), 0)
    except ValueError:
        after = 0
    finished = run.is_finished  # read before the events: a finished run has them all
    line = timeline.changes(run, after, only_failures=request.GET.get("only") == "failures")
    context = {**_context(request, run, line), "oob": True, "finished": finished}
    response = without_secrets(render(request, "runner/run.html#update", context), run.workspace)
    if finished:
        stop = HttpResponseStopPolling(response.content)
        stop["Content-Type"] = response["Content-Type"]
        return stop
    return response


@require_GET
@workspace_view()
def step_detail(request, run_id):
    """A step's input and output, loaded when its row of the timeline is opened."""
    steps = StepRun.objects.filter(run__workspace=request.workspace, run_id=run_id)
    step = get_object_or_404(steps, id=_row_id(request))
    response = render(request, "runner/run.html#step_detail", {"step": step})
    return without_secrets(response, request.workspace)


@require_GET
@workspace_view()
def attempt_detail(request, run_id):
    """An attempt's error, traceback, output and times, loaded when its row is opened."""
    attempts = Attempt.objects.filter(run__workspace=request.workspace, run_id=run_id)
    attempt = get_object_or_404(attempts, id=_row_id(request))
    response = render(request, "runner/run.html#attempt_detail", {"a": attempt})
    return without_secrets(response, request.workspace)


def _row_id(request):
    try:
        return int(request.GET.get("id", ""))
    except ValueError:
        raise Http404("No such row") from None


@require_POST
@workspace_view(min_role=Role.EDITOR)
def run_cancel(request, run_id):
    run = get_run(request, run_id)
    try:
        engine.cancel_run(run.id, request.user)
        messages.success(request, f"Run #{run.id} is being cancelled; its compensations run now.")
    except InvalidTransition as error:
        messages.error(request, str(error))
    return redirect("run_detail", request.workspace.slug, run.id)


def without_secrets(response, workspace):
    """Mask the workspace's secret values wherever an action put one into its output.

    Inputs keep `{{ secrets.NAME }}` unrendered and errors are scrubbed by the worker, but
    an action may still return a secret it was given (an echo, a response that reflects a
    header): the page never shows one.
    """
    values = [v for v in Secret.values_of(workspace.id).values() if len(v) >= 4]
    if not values:
        return response
    content = response.content.decode()
    for value in sorted(values, key=len, reverse=True):
        in_json = json.dumps(value, ensure_ascii=False)[1:-1]
        for form in {value, escape(value), in_json, escape(in_json)}:
            content = content.replace(form, "••••••")
    response.content = content.encode()
    return response


def _version_label(run):
    if run.workflow_version_id:
        return f"v{run.workflow_version.number}"
    steps = run.definition.get("steps") or []
    if run.action_id and steps:
        return steps[0]["action"]
    return "—"
