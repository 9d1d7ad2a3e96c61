"""Schedules in the dashboard: a workflow's schedules (create with a live preview of fire
times, pause, resume, delete) and the workspace's list of all of them."""

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from builder.schedule_form import ScheduleForm
from builder.views.common import get_workflow
from core.models import Role
from core.workspaces import can_edit, workspace_view
from runner import schedules
from runner.models import Run, Schedule
from runner.schedule_times import Spec, next_times, problems


@workspace_view()
@require_http_methods(["GET", "POST"])
def schedule_list(request, slug):
    workflow = get_workflow(request, slug)
    form = ScheduleForm()
    status = 200
    if request.method == "POST":
        if not can_edit(request):
            raise Http404("No such page")
        form = ScheduleForm(request.POST)
        if form.is_valid():
            schedule = Schedule(workspace=request.workspace, workflow=workflow)
            schedule.created_by = request.user
            errors = schedules.save(schedule, form.changes())
            if not errors:
                messages.success(request, f"Created the schedule {schedule.name}.")
                return redirect("workflow_schedules", request.workspace.slug, workflow.slug)
            form.add_errors(errors)
        status = 422
    rows = _rows(workflow.schedules.select_related("workflow").order_by("name"))
    context = {
        "workflow": workflow,
        "rows": rows,
        "form": form,
        "open_form": status == 422,
        "published": workflow.versions.exists(),
    }
    return render(request, "builder/schedules.html", context, status=status)


@workspace_view()
@require_GET
def workspace_schedules(request):
    found = Schedule.objects.filter(workspace=request.workspace).select_related("workflow")
    rows = _rows(found.order_by("workflow__name", "name"))
    return render(request, "builder/all_schedules.html", {"rows": rows})


@workspace_view(min_role=Role.EDITOR)
@require_GET
def schedule_preview(request, slug):
    """The next fire times of the form as typed (htmx, while editing)."""
    interval = request.GET.get("interval_s", "").strip()
    spec = Spec(
        cron=request.GET.get("cron", "").strip(),
        interval_s=int(interval) if interval.isdigit() else (None if not interval else -1),
        timezone=request.GET.get("timezone", "").strip() or "UTC",
    )
    errors = problems(spec)
    times = [] if errors else next_times(spec, timezone.now())
    context = {"times": times, "errors": [m for ms in errors.values() for m in ms], "spec": spec}
    return render(request, "builder/_schedule_preview.html", context)


@workspace_view(min_role=Role.EDITOR)
@require_POST
def toggle_schedule(request, slug, schedule_id):
    workflow = get_workflow(request, slug)
    schedule = get_object_or_404(Schedule, workflow=workflow, id=schedule_id)
    schedules.save(schedule, {"paused": not schedule.paused})
    state = "paused" if schedule.paused else "resumed: it fires from now on"
    messages.success(request, f"Schedule {schedule.name} {state}.")
    return redirect("workflow_schedules", request.workspace.slug, workflow.slug)


@workspace_view(min_role=Role.EDITOR)
@require_POST
def delete_schedule(request, slug, schedule_id):
    workflow = get_workflow(request, slug)
    schedule = get_object_or_404(Schedule, workflow=workflow, id=schedule_id)
    schedules.delete(schedule)
    messages.success(request, f"Deleted the schedule {schedule.name}; its runs stay.")
    return redirect("workflow_schedules", request.workspace.slug, workflow.slug)


def _rows(found):
    """Each schedule with its next fire times and its last run (one query in all)."""
    latest = Run.objects.filter(schedule=OuterRef("pk")).order_by("-id")
    found = found.annotate(
        last_run_id=Subquery(latest.values("id")[:1]),
        last_run_status=Subquery(latest.values("status")[:1]),
    )
    now = timezone.now()
    return [
        {"schedule": s, "upcoming": [] if s.paused else next_times(schedules.spec_of(s), now, 5)}
        for s in found
    ]
