"""The approvals a member may decide: the "Waiting for me" page and its sidebar count."""

from runner import waits
from runner.models import StepRun
from runner.states import RunStatus, StepKind, StepStatus


def awaiting(workspace, role):
    """Waiting approval steps of `workspace` that a member of `role` may approve or reject,
    oldest first (the `step_waiting` index holds only waiting rows)."""
    return (
        StepRun.objects.filter(
            run__workspace=workspace,
            run__status=RunStatus.RUNNING,
            status=StepStatus.WAITING,
            kind=StepKind.ACTION,
            waiting_for__in=waits.roles_deciding(role),
        )
        .select_related("run__workflow")
        .order_by("started_at", "id")
    )
