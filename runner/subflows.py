"""Sub-workflow steps: a step that runs another workflow of its workspace as a child run.

    {"key": "ship", "type": "workflow", "workflow": "shipping", "version": "latest",
     "input": {"order": "{{ steps.order.output.id }}"}}

The step holds no worker: it is `running` with no attempt while its child run goes
(started, cancelled and waking its parent in runner/subflow_transitions.py). The child's
last transition wakes the parent after it commits, and the sweeper's reconcile of idle
runs is the safety net; either way `settle` reads the child's end and finishes the step: succeeded with the child's output (the child run's
`output`), or failed with error code `child_failed`, which `on_error` routes can take.

Locks are taken parent first, then child, never the other way: a child only ever wakes
its parent after its own transaction committed.
"""

from builder.models import Workflow
from core.errors import InvalidInput
from runner.models import Run
from runner.states import FINISHED_RUN, RunStatus, StepKind, StepStatus
from runner.transition import flag_run, set_step

SUBFLOW = "workflow"
MAX_DEPTH = 5  # a child of a child ... at most this deep
CHILD_STATE = ("id", "parent_step_id", "status", "output", "error")  # what settle reads


def is_subflow(spec: dict) -> bool:
    return spec.get("type") == SUBFLOW


def child_target(run, spec):
    """(workflow, version) the step runs, from the run's own workspace; InvalidInput when
    it is gone, archived or has no such version (it was valid when published)."""
    # Not its draft: only the version's definition is run.
    workflows = Workflow.objects.defer("draft", "draft_keys")
    workflow = workflows.filter(workspace_id=run.workspace_id, slug=spec["workflow"]).first()
    if workflow is None:
        raise InvalidInput({"workflow": [f"no workflow {spec['workflow']!r} in this workspace"]})
    if workflow.archived_at is not None:
        raise InvalidInput({"workflow": [f"workflow {spec['workflow']!r} is archived"]})
    versions = workflow.versions.order_by("-number")
    if spec.get("version", "latest") != "latest":
        versions = versions.filter(number=spec["version"])
    version = versions.first()
    if version is None:
        raise InvalidInput({"version": [f"workflow {spec['workflow']!r} has no such version"]})
    return workflow, version


def depth_of(run_id: int) -> int:
    """How many parents the run has (0 for a run nobody started)."""
    depth = 0
    parent = Run.objects.filter(id=run_id).values_list("parent_run_id", flat=True).first()
    while parent is not None and depth <= MAX_DEPTH:
        depth += 1
        parent = Run.objects.filter(id=parent).values_list("parent_run_id", flat=True).first()
    return depth


def children(run, steps) -> dict:
    """{parent step id: child run} of the running sub-workflow steps (a compensation's
    child is the one of the step it undoes)."""
    ids = [
        s.compensates_id or s.id
        for s in steps
        if s.status == StepStatus.RUNNING and is_subflow(run.step_spec(s.key))
    ]
    if not ids:
        return {}
    found = Run.objects.filter(parent_step_id__in=ids).only(*CHILD_STATE)
    return {child.parent_step_id: child for child in found}


def child_error(child) -> dict:
    inner = child.error or {}
    message = inner.get("message") or f"the child run ended {child.status}"
    return {
        "type": "ChildRunFailed",
        "code": "child_failed",
        "message": f"child run {child.id} {child.status}: {message}"[:500],
        "retryable": False,
        "details": {"run": child.id, "status": child.status, "error": inner or None},
    }


def settle(tx, steps, on_failure) -> bool:
    """Finish every running sub-workflow step (or compensation) whose child run ended;
    `on_failure(tx, steps, step, error)` takes a failed forward step. True if any did."""
    settled = False
    for step_id, child in children(tx.run, steps).items():
        for step in steps:
            if step.status != StepStatus.RUNNING or (step.compensates_id or step.id) != step_id:
                continue
            if step.kind == StepKind.COMPENSATION:
                settled |= _settle_compensation(tx, step, child)
            elif child.status in FINISHED_RUN:
                settled = True
                if child.status == RunStatus.SUCCEEDED:
                    set_step(tx, step, StepStatus.SUCCEEDED, output=child.output, ended_at=tx.now)
                else:
                    error = child_error(child)
                    set_step(tx, step, StepStatus.FAILED, error=error, ended_at=tx.now)
                    on_failure(tx, steps, step, error)
    return settled


def _settle_compensation(tx, step, child):
    """A child run being undone for its parent: compensated (or nothing to undo) is a
    succeeded compensation; failed flags the parent too."""
    if child.status == RunStatus.COMPENSATED:
        set_step(tx, step, StepStatus.SUCCEEDED, ended_at=tx.now, output={"child_run": child.id})
        return True
    if child.status in (RunStatus.FAILED, RunStatus.CANCELLED):
        error = child_error(child)
        set_step(tx, step, StepStatus.FAILED, error=error, ended_at=tx.now)
        flag_run(tx, step, "a compensation failed")
        return True
    return False


def active_children(run, steps) -> list:
    """The child runs of running forward sub-workflow steps still queued or running."""
    forward = [s for s in steps if s.kind == StepKind.ACTION]
    found = children(run, forward).values()
    return [c.id for c in found if c.status in (RunStatus.QUEUED, RunStatus.RUNNING)]
