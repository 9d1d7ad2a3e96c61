"""Runs as the API shows them (core/api/schemas.py: RunOut, RunDetailOut).

Only the data fields (inputs, outputs, errors) pass through `mask`: the answer's own
fields (ids, statuses, keys) are never touched, whatever a secret's value reads.
"""

from urllib.parse import quote

from django.db.models import F, Prefetch

from core.key_order import ordered
from core.masking import mask
from core.models import Secret
from runner.models import Attempt, Run, StepRun
from runner.states import StepKind
from runner.timeline import ItemCounts, decision_notes, item_counts

RUN_RELATED = ("workflow", "workflow_version", "action")


def runs_of(workspace):
    return Run.objects.filter(workspace=workspace).select_related(*RUN_RELATED)


def secret_values(workspace):
    """What to mask in answers: a run's input or an action's output may carry a secret."""
    return list(Secret.values_of(workspace.id).values())


def run_summary(run, secrets=()):
    return {
        "id": run.id,
        "status": run.status,
        "workflow": run.workflow.slug if run.workflow_id else None,
        "workflow_version": run.workflow_version.number if run.workflow_version_id else None,
        "action": run.action.name if run.action_id else None,
        "trigger": run.trigger,
        "input": mask(ordered(run, "input"), secrets),
        "output": mask(ordered(run, "output"), secrets),
        "error": mask(run.error, secrets),
        "rerun_of": run.rerun_of_id,
        "needs_review": run.needs_review,
        "keep": run.keep,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "deadline": run.deadline,
        "timed_out": run.ending == "timed_out",
    }


def run_detail(run, secrets=()):
    """The run with its steps (compensations too) and every attempt of each, in order. A
    for-each step's items are not among them, whatever their number: the step counts them
    by status and links to their pages (`item_page`)."""
    steps = list(
        run.steps.filter(parent__isnull=True)
        .select_related("action_version__action", "reused_from")
        .prefetch_related(Prefetch("attempts", queryset=Attempt.objects.order_by("number")))
    )
    counts = item_counts(run.id) if _has_for_each(run) else {}
    notes = decision_notes(run.id)
    children = list(run.children.select_related("workflow", "parent_step").order_by("id"))
    child_of = {child.parent_step_id: child.id for child in children}
    specs = run.definition.get("steps") if isinstance(run.definition, dict) else None
    types = {
        spec.get("key"): spec.get("type", "action")
        for spec in (specs if isinstance(specs, list) else [])
        if isinstance(spec, dict)
    }
    return {
        **run_summary(run, secrets),
        "parent": _parent(run),
        "children": [
            {
                "run": child.id,
                "step": child.parent_step.key if child.parent_step_id else None,
                "workflow": child.workflow.slug if child.workflow_id else None,
                "status": child.status,
            }
            for child in children
        ],
        "steps": [
            {
                **_step(step, secrets, notes.get((step.kind, step.key), ""), types, child_of),
                "items": _items_summary(run, step, counts),
            }
            for step in steps
        ],
    }


def _has_for_each(run):
    specs = run.definition.get("steps") if isinstance(run.definition, dict) else None
    return any(
        isinstance(spec, dict) and "for_each" in spec
        for spec in (specs if isinstance(specs, list) else [])
    )


def _items_summary(run, step, counts):
    """A for-each step's items by status (`counts`: timeline.item_counts), and their URL."""
    if step.kind != StepKind.ACTION or not _is_for_each(run, step.key):
        return None
    by_status = counts.get(step.id, ItemCounts()).by_status
    url = f"/api/v1/runs/{run.id}/steps/{quote(step.key, safe='')}/items"
    return {"total": sum(by_status.values()), "counts": by_status, "url": url}


def _is_for_each(run, key):
    try:
        return "for_each" in run.step_spec(key)
    except (KeyError, TypeError, AttributeError):
        return False


def item_page(step, secrets=(), *, status=None, after=None, limit=50):
    """A page of a for-each step's items in list order, after the item at index `after`;
    a constant number of queries: the items, their attempts, their compensations."""
    items = StepRun.objects.filter(parent_id=step.id, kind=StepKind.ITEM)
    if status:
        items = items.filter(status=status)
    if after is not None:
        items = items.filter(item_index__gt=after)
    page = list(
        items.order_by("item_index")
        # The original's run only: a join, not the original item's row with its data.
        .annotate(reused_from_run=F("reused_from__run_id"))
        .prefetch_related(Prefetch("attempts", queryset=Attempt.objects.order_by("number")))[
            : limit + 1
        ]
    )
    more = len(page) > limit
    page = page[:limit]
    undone = dict(
        StepRun.objects.filter(
            compensates_id__in=[item.id for item in page], kind=StepKind.COMPENSATION
        ).values_list("compensates_id", "status")
    )
    return {
        "items": [_item(item, undone.get(item.id), secrets) for item in page],
        "next_cursor": str(page[-1].item_index) if more else None,
    }


def _item(item, compensation, secrets):
    return {
        "index": item.item_index,
        "item": mask(item.item, secrets),
        "status": item.status,
        "input": mask(item.input, secrets),
        "output": mask(item.output, secrets),
        "error": mask(item.error, secrets),
        "attempt_count": item.attempt_count,
        "reused_from_run": item.reused_from_run,
        "compensation": compensation,
        "started_at": item.started_at,
        "ended_at": item.ended_at,
        "attempts": [_attempt(attempt, secrets) for attempt in item.attempts.all()],
    }


def _parent(run):
    if run.parent_run_id is None:
        return None
    parent = Run.objects.filter(id=run.parent_run_id).values("id", "status").first()
    if parent is None:
        return None
    step = run.parent_step.key if run.parent_step_id else None
    return {"run": parent["id"], "step": step, "status": parent["status"]}


def _step(step, secrets, why="", types=None, child_of=None):
    spec_type = (types or {}).get(step.key) or ("action" if step.action_version_id else "switch")
    return {
        "key": step.key,
        "kind": step.kind,
        "status": step.status,
        "type": spec_type,
        "child_run": (child_of or {}).get(step.compensates_id or step.id),
        "action": step.action_version.ref if step.action_version_id else None,
        "handled": step.handled is not None,
        "route": step.handled,
        "why": why,
        "input": mask(ordered(step, "input"), secrets),
        "output": mask(ordered(step, "output"), secrets),
        "error": mask(step.error, secrets),
        "attempt_count": step.attempt_count,
        "item_index": step.item_index,  # a for-each's item (kind "item") or its compensation
        "reused_from_run": step.reused_from.run_id if step.reused_from_id else None,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "wake_at": step.wake_at,
        "waiting_for": step.waiting_for,
        "attempts": [_attempt(attempt, secrets) for attempt in step.attempts.all()],
    }


def _attempt(attempt, secrets):
    return {
        "number": attempt.number,
        "status": attempt.status,
        "scheduled_for": attempt.scheduled_for,
        "started_at": attempt.started_at,
        "ended_at": attempt.ended_at,
        "duration_ms": attempt.duration_ms,
        "output": mask(ordered(attempt, "output"), secrets),
        "error": mask(attempt.error, secrets),
        "log": mask(attempt.log, secrets),  # what the action logged (runner/attempt_log.py)
        "retry_decision": attempt.retry_decision,
        "worker": attempt.worker,
    }
