"""Deciding approvals in the browser: Approve / Reject on the run page, and the
"Waiting for me" page listing the runs awaiting the member's decision."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.errors import InvalidTransition
from core.models import Role
from core.workspaces import workspace_view
from runner import approvals, launch, waits
from runner.models import StepRun
from runner.states import StepStatus
from runner.views.run import get_run

MAX_COMMENT = 2000


@require_GET
@workspace_view()
def waiting_list(request):
    steps = list(approvals.awaiting(request.workspace, request.role)[:200])
    return render(request, "runner/waiting.html", {"steps": steps})


@require_POST
@workspace_view(min_role=Role.EDITOR)
def run_decide(request, run_id):
    """Approve or reject one waiting approval step of the run, as the member's role allows."""
    run = get_run(request, run_id)
    key = request.POST.get("step", "")
    decision = request.POST.get("decision")
    comment = request.POST.get("comment", "").strip()[:MAX_COMMENT]
    ok, message = _decide(run, key, decision, comment, request)
    if request.htmx and request.POST.get("next") != "waiting":
        # On the run page: only the form is replaced; the page's live poll shows the rest.
        context = {"key": key, "ok": ok, "message": message}
        return render(request, "runner/_decided.html", context)
    (messages.success if ok else messages.error)(request, message)
    if request.POST.get("next") == "waiting":
        return redirect("waiting_list", request.workspace.slug)
    return redirect("run_detail", request.workspace.slug, run.id)


def _decide(run, key, decision, comment, request):
    """(decided, what to tell the member)."""
    step = StepRun.objects.filter(run=run, key=key, status=StepStatus.WAITING).first()
    if decision not in ("approve", "reject") or step is None:
        return False, "Nothing of this run waits for that decision."
    if not waits.may_decide(step.waiting_for, request.role):
        needed = waits.approval_role(step.waiting_for) or "another"
        return False, f"Only an {needed} or above may decide this approval."
    try:
        launch.decide_approval(
            run.id, key, approved=decision == "approve", by=request.user.username,
            comment=comment,
        )  # fmt: skip
    except InvalidTransition as error:
        return False, str(error)
    verb = "approved" if decision == "approve" else "rejected"
    return True, f"Step {key} of run #{run.id} {verb}."
