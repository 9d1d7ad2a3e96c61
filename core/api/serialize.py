"""Runs as the API shows them (core/api/schemas.py: RunOut, RunDetailOut)."""

from django.db.models import Prefetch

from core.masking import mask_value
from core.models import Secret
from runner.models import Attempt, Run

RUN_RELATED = ("workflow", "workflow_version", "action")


def runs_of(workspace):
    return Run.objects.filter(workspace=workspace).select_related(*RUN_RELATED)


def secret_values(workspace):
    """What to mask in answers: a run's input or an action's output may carry a secret."""
    return list(Secret.values_of(workspace.id).values())


def run_summary(run, secrets=()):
    return mask_value(_summary(run), secrets)


def _summary(run):
    return {
        "id": run.id,
        "status": run.status,
        "workflow": run.workflow.slug if run.workflow_id else None,
        "workflow_version": run.workflow_version.number if run.workflow_version_id else None,
        "action": run.action.name if run.action_id else None,
        "trigger": run.trigger,
        "input": run.input,
        "output": run.output,
        "error": run.error,
        "rerun_of": run.rerun_of_id,
        "needs_review": run.needs_review,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
    }


def run_detail(run, secrets=()):
    """The run with its steps (compensations too) and every attempt of each, in order."""
    steps = run.steps.select_related("action_version__action", "reused_from").prefetch_related(
        Prefetch("attempts", queryset=Attempt.objects.order_by("number"))
    )
    detail = {**_summary(run), "steps": [_step(step) for step in steps]}
    return mask_value(detail, secrets)


def _step(step):
    return {
        "key": step.key,
        "kind": step.kind,
        "status": step.status,
        "action": step.action_version.ref,
        "input": step.input,
        "output": step.output,
        "error": step.error,
        "attempt_count": step.attempt_count,
        "reused_from_run": step.reused_from.run_id if step.reused_from_id else None,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "attempts": [_attempt(attempt) for attempt in step.attempts.all()],
    }


def _attempt(attempt):
    return {
        "number": attempt.number,
        "status": attempt.status,
        "scheduled_for": attempt.scheduled_for,
        "started_at": attempt.started_at,
        "ended_at": attempt.ended_at,
        "duration_ms": attempt.duration_ms,
        "output": attempt.output,
        "error": attempt.error,
        "retry_decision": attempt.retry_decision,
        "worker": attempt.worker,
    }
