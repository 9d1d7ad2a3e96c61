"""The run page: header, live timeline (polled with an event cursor), the details of a
row when it is opened, and cancel.

Inputs, outputs and errors are masked (core/masking.py) before they are rendered: an
action may return a secret it was given, or a run's own input may carry one.
"""

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from core import key_order
from core.errors import InvalidTransition
from core.masking import mask
from core.models import Role, Secret
from core.web import started_runs
from core.workspaces import can_edit, workspace_view
from runner import launch, pruning, run_graph, timeline, waits
from runner.models import Attempt, Run, StepRun
from runner.states import ACTIVE_RUN

# A run's input and output may be as big as its for-each's list (the output of a for-each
# that ends the run is every item's output): the run page and its polls never read them.
# The "Run input and output" pane loads them when it is opened (`run_io`).
RUN_DATA = ("input", "output", "input_keys", "output_keys")
PARENTS = ("parent_run", "parent_step")
# The page names the workflow and its version: their definitions (the run has its own) and
# key orders are not read (restoring an order walks the whole definition on every load).
PAGE_UNREAD = ("workflow__draft", "workflow__draft_keys")
PAGE_UNREAD += ("workflow_version__definition", "workflow_version__definition_keys")


def get_run(request, run_id, *, data=True):
    """The run, if it belongs to the request's workspace; 404 otherwise. Without `data`,
    its input and output are left unread (`run.has_output` says whether there is one)."""
    runs = Run.objects.select_related(
        "workflow", "workflow_version", "action", "created_by", "parent_run", "parent_step"
    )
    # The parent run and step are named and their status shown, nothing more.
    runs = runs.defer(*(f"{parent}__{field}" for parent in PARENTS for field in RUN_DATA))
    if not data:
        runs = runs.defer(*RUN_DATA, *PAGE_UNREAD).annotate(has_output=Q(output__isnull=False))
    return get_object_or_404(runs, id=run_id, workspace=request.workspace)


def _context(request, run, line):
    for group in line.groups:
        if group.waiting_for:
            group.can_decide = waits.may_decide(group.waiting_for, request.role)
    return {
        "run": run,
        "started_here": run.id in started_runs.started_here(request),
        "timeline": line,
        "only_failures": line.only_failures,
        "version": _version_label(run),
        "can_edit": can_edit(request),
        "oob": False,  # set, not missing: a missing variable costs an exception per step
        # Reversed once here: one `{% url %}` per row costs more than the whole row.
        "step_url": reverse("run_step", args=[request.workspace.slug, run.id]),
        "attempt_url": reverse("run_attempt", args=[request.workspace.slug, run.id]),
        # Sub-workflows: the runs its steps started, with their live status (the head is
        # redrawn at every poll); the parent is `run.parent_run`.
        "children": _children(run),
    }


def _children(run):
    """Read only for a run with sub-workflow steps: no query for every other run's poll."""
    specs = run.definition.get("steps") if isinstance(run.definition, dict) else None
    if not isinstance(specs, list) or not any(
        isinstance(spec, dict) and spec.get("type") == "workflow" for spec in specs
    ):
        return []
    return list(run.children.select_related("workflow", "parent_step").order_by("id")[:50])


@require_GET
@workspace_view()
def run_detail(request, run_id):
    reruns = _reruns(request, run_id)  # before the run: see _reruns
    run = get_run(request, run_id, data=False)
    secrets = _secrets(request)
    only_failures = request.GET.get("only") == "failures"
    line = timeline.build(run, only_failures=only_failures, secrets=secrets)
    context = _context(request, _masked_error(run, secrets), line)
    context["reruns"] = reruns
    context["live"] = not run.is_finished or _any_active(reruns)
    # The timeline read every step already; a filtered one did not (its nodes read their own).
    now = None if only_failures else run_graph.from_groups(line.groups)
    context["graph_cards"], context["graph_edges"] = run_graph.build(run, now)
    return render(request, "runner/run.html", context)


@require_GET
@workspace_view()
def run_timeline(request, run_id):
    """The steps touched since event `after`, as out-of-band swaps; stops once finished."""
    reruns = _reruns(request, run_id)  # before the run: see _reruns
    run = get_run(request, run_id, data=False)
    try:
        after = max(int(request.GET.get("after", "0")), 0)
    except ValueError:
        after = 0
    finished = run.is_finished  # read before the events: a finished run has them all
    only_failures = request.GET.get("only") == "failures"
    secrets = _secrets(request)
    line = timeline.changes(run, after, only_failures=only_failures, secrets=secrets)
    # A finished run's page stays live while a rerun of it runs: its status is shown here.
    finished = finished and not _any_active(reruns)
    context = {**_context(request, _masked_error(run, secrets), line), "oob": True}
    context.update(reruns=reruns, live=not finished)
    counted = {group.key: group.items for group in line.groups if group.for_each}
    context["graph_states"] = run_graph.states(run, counted).values()
    response = render(request, "runner/run.html#update", context)
    if finished:
        stop = HttpResponseStopPolling(response.content)
        stop["Content-Type"] = response["Content-Type"]
        return stop
    return response


def _reruns(request, run_id):
    """The reruns of run `run_id`, with their status (the original's page shows how they
    went), and whether this browser started them (static/js/toast.js says when those end).

    Read before the run itself: a rerun that succeeds resolves its original in the same
    transaction, so a rerun seen finished here means the run read next shows it resolved.
    The other order could show the rerun succeeded beside an unresolved original, and stop
    polling with it so."""
    mine = started_runs.started_here(request)
    reruns = Run.objects.filter(rerun_of_id=run_id, workspace=request.workspace)
    reruns = list(reruns.order_by("id").values("id", "status")[:20])
    return [{**rerun, "mine": rerun["id"] in mine} for rerun in reruns]


def _any_active(reruns):
    return any(rerun["status"] in ACTIVE_RUN for rerun in reruns)


@require_GET
@workspace_view()
def run_io(request, run_id):
    """The run's input and output, loaded when the page's pane of them is opened."""
    run = _masked(get_run(request, run_id), _secrets(request))
    return render(request, "runner/run.html#run_io", {"run": run})


@require_GET
@workspace_view()
def step_detail(request, run_id):
    """A step's input and output, loaded when its row of the timeline is opened."""
    steps = StepRun.objects.filter(run__workspace=request.workspace, run_id=run_id)
    step = _masked(get_object_or_404(steps, id=_row_id(request)), _secrets(request))
    return render(request, "runner/run.html#step_detail", {"step": step})


@require_GET
@workspace_view()
def attempt_detail(request, run_id):
    """An attempt's error, traceback, output and times, loaded when its row is opened."""
    attempts = Attempt.objects.filter(run__workspace=request.workspace, run_id=run_id)
    attempt = _masked(get_object_or_404(attempts, id=_row_id(request)), _secrets(request))
    return render(request, "runner/run.html#attempt_detail", {"a": attempt})


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
        launch.cancel_run(run.id, request.user)
        messages.success(request, f"Run #{run.id} is being cancelled; its compensations run now.")
    except InvalidTransition as error:
        messages.error(request, str(error))
    return redirect("run_detail", request.workspace.slug, run.id)


@require_POST
@workspace_view(min_role=Role.EDITOR)
def run_keep(request, run_id):
    """Pin the run (retention never deletes it), or let it go again: `keep=0`."""
    run = get_run(request, run_id)
    keep = request.POST.get("keep", "1") not in ("0", "false", "")
    pruning.set_kept(run, keep)
    if keep:
        messages.success(request, f"Run #{run.id} is kept: retention will never delete it.")
    else:
        messages.success(request, f"Run #{run.id} follows the retention policy again.")
    return redirect("run_detail", request.workspace.slug, run.id)


def _secrets(request):
    return Secret.values_of(request.workspace.id).values()


def _masked(row, secrets):
    """The run, step or attempt with its data fields masked, and its input and output in
    the key order they were written in, for rendering (never saved)."""
    for field in ("input", "output", "error"):
        if hasattr(row, field):
            setattr(row, field, mask(key_order.ordered(row, field), secrets))
    if isinstance(row, Attempt):
        row.log = mask(row.log, secrets)  # masked when written; and a secret added since
    return row


def _masked_error(run, secrets):
    """The run as its page shows it: only its error (its input and output are not read)."""
    run.error = mask(run.error, secrets)
    return run


def _version_label(run):
    if run.workflow_version_id:
        return f"v{run.workflow_version.number}"
    steps = run.definition.get("steps") or []
    if run.action_id and steps:
        return steps[0]["action"]
    return "—"
