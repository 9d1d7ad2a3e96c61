"""The failures inbox: runs that ended badly or were flagged, until someone resolves them."""

from django.db.models import Q

from runner.models import Run
from runner.states import RunStatus

MAX_BULK = 200  # runs per resolve, reopen or rerun, on the page and in the API
NEEDS_ATTENTION = Q(status__in=[RunStatus.FAILED, RunStatus.COMPENSATED]) | Q(needs_review=True)


def unresolved(workspace):
    return Run.objects.filter(NEEDS_ATTENTION, workspace=workspace, resolved_at__isnull=True)


def failures(workspace):
    """Every failed, compensated or flagged run of `workspace`, resolved or not."""
    return Run.objects.filter(NEEDS_ATTENTION, workspace=workspace)
