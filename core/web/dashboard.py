"""The dashboard: the last 24 hours of runs at a glance, with the newest runs live."""

from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from builder import starters
from builder.models import Workflow
from core.web.charts import stacked_bars
from core.workspaces import workspace_view
from runner.inbox import unresolved
from runner.listing import light_runs
from runner.models import Run
from runner.states import ACTIVE_RUN, RunStatus

BAD = {RunStatus.FAILED, RunStatus.COMPENSATED, RunStatus.CANCELLED}
ORDER = [
    RunStatus.SUCCEEDED,
    RunStatus.FAILED,
    RunStatus.COMPENSATED,
    RunStatus.RUNNING,
    RunStatus.COMPENSATING,
    RunStatus.QUEUED,
    RunStatus.CANCELLED,
]


@require_GET
@workspace_view()
def dashboard(request):
    workspace = request.workspace
    recent = light_runs(Run.objects.filter(workspace=workspace)).order_by("-id")[:10]
    if request.htmx:
        return render(request, "core/dashboard.html#recent", {"recent": recent})
    now = timezone.now()
    since = now - timedelta(hours=24)
    window = Run.objects.filter(workspace=workspace, created_at__gte=since)
    by_status = dict(window.values_list("status").annotate(n=Count("id")).order_by())
    total = sum(by_status.values())
    finished = sum(n for s, n in by_status.items() if s not in ACTIVE_RUN)
    succeeded = by_status.get(RunStatus.SUCCEEDED, 0)
    context = {
        "recent": recent,
        "total": total,
        "statuses": [
            {"status": s, "count": by_status.get(s, 0), "pct": _pct(by_status.get(s, 0), total)}
            for s in ORDER
        ],
        "failed": sum(by_status.get(s, 0) for s in (RunStatus.FAILED, RunStatus.COMPENSATED)),
        "active": sum(by_status.get(s, 0) for s in ACTIVE_RUN),
        "success_rate": _pct(succeeded, finished) if finished else None,
        "unresolved": unresolved(workspace).count(),
        "chart": stacked_bars(_hourly(window, now)),
        "has_workflows": Workflow.objects.filter(workspace=workspace).exists(),
        "starters": starters.STARTERS,
    }
    return render(request, "core/dashboard.html", context)


def _hourly(window, now):
    """[(hour label, ok, bad)] for the 24 hours up to now, oldest first."""
    rows = (
        window.annotate(hour=TruncHour("created_at"))
        .values_list("hour", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {}
    for hour, status, n in rows:
        ok, bad = counts.get(hour, (0, 0))
        counts[hour] = (ok, bad + n) if status in BAD else (ok + n, bad)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    buckets = []
    for offset in range(24):
        hour = start + timedelta(hours=offset)
        ok, bad = counts.get(hour, (0, 0))
        buckets.append((hour.strftime("%H:00"), ok, bad))
    return buckets


def _pct(part, whole):
    return round(100 * part / whole, 1) if whole else 0
