"""The failures inbox: runs that ended badly or were flagged, until someone resolves them."""

from django.db.models import Q
from django.utils import timezone

from core.audit import record
from runner.models import Run
from runner.states import RunStatus

MAX_BULK = 200  # runs per resolve, reopen or rerun, on the page and in the API
NEEDS_ATTENTION = Q(status__in=[RunStatus.FAILED, RunStatus.COMPENSATED]) | Q(needs_review=True)


def unresolved(workspace):
    return Run.objects.filter(NEEDS_ATTENTION, workspace=workspace, resolved_at__isnull=True)


def failures(workspace):
    """Every failed, compensated or flagged run of `workspace`, resolved or not."""
    return Run.objects.filter(NEEDS_ATTENTION, workspace=workspace)


def resolve(workspace, ids, note):
    """Mark these failures of `workspace` resolved with `note` (page and API alike)."""
    runs = failures(workspace).filter(id__in=ids)
    runs.update(resolved_at=timezone.now(), resolution_note=note)
    for run_id in sorted(ids):
        label, data = f"#{run_id}", {"note": note}
        record(
            "run.resolve", workspace, object_type="run", object_id=run_id, label=label, data=data
        )


def reopen(workspace, ids):
    """Put these resolved failures back into the inbox, without their note."""
    failures(workspace).filter(id__in=ids).update(resolved_at=None, resolution_note="")
    for run_id in sorted(ids):
        record("run.reopen", workspace, object_type="run", object_id=run_id, label=f"#{run_id}")
