"""Retention of runs: each workspace's policy, applied a small batch at a time.

A finished run is deleted, with its steps, attempts, events and webhook deliveries, once it
ended longer ago than its workspace keeps runs (`keep_runs_days`, 30 by default); failed,
compensated and needs-review runs are kept longer (`keep_failed_runs_days`, 90); a run
with `keep` set, and a run still going, never.

Why batches: a pass of the sweeper deletes at most BATCH_RUNS runs per transaction and
stops after PASS_BUDGET_S, so no transaction holds its locks long and the engine, which
writes other rows of the same tables, never waits for a big DELETE. On PostgreSQL the
batch is locked with SKIP LOCKED, so a run someone is pinning or resolving right now is
simply left for the next pass; SQLite serialises writers, and a short transaction is all
it needs to stay out of the engine's way.
"""

import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from builder.models import WebhookDelivery
from core.audit import AuditEntry, record
from core.models import Workspace
from core.retention import delete_at_once
from runner.models import Attempt, Run, RunEvent, StepRun
from runner.states import FINISHED_RUN, RunStatus

MAX_DAYS = 3650  # a policy is 1 day to 10 years
BATCH_RUNS = 100
PASS_BUDGET_S = 0.25
QUIET_S = 10
_quiet_until = {}  # workspace id -> monotonic time: when this process looks again
# A failure is worth keeping longer: someone may still be looking into it.
SERIOUS = Q(status__in=[RunStatus.FAILED, RunStatus.COMPENSATED]) | Q(needs_review=True)


@dataclass
class Removed:
    """What one or more batches deleted, by kind."""

    runs: int = 0
    steps: int = 0
    attempts: int = 0
    events: int = 0
    deliveries: int = 0
    audit_entries: int = 0  # by their own retention, AUDIT_RETENTION_DAYS
    by_workspace: dict = field(default_factory=dict)

    def add(self, other, workspace_id=None):
        for name in ("runs", "steps", "attempts", "events", "deliveries", "audit_entries"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if workspace_id is not None and other.runs:
            self.by_workspace[workspace_id] = self.by_workspace.get(workspace_id, 0) + other.runs

    def __str__(self):
        return (
            f"{self.runs} runs, {self.steps} steps, {self.attempts} attempts, "
            f"{self.events} events, {self.deliveries} webhook deliveries, "
            f"{self.audit_entries} audit entries"
        )


def due(workspace, now=None):
    """The workspace's runs its policy says to delete now (a queryset, oldest first)."""
    now = now or timezone.now()
    ordinary = now - timedelta(days=workspace.keep_runs_days)
    serious = now - timedelta(days=workspace.keep_failed_runs_days)
    return (
        Run.objects.filter(
            workspace_id=workspace.id,
            keep=False,
            status__in=FINISHED_RUN,
            ended_at__lt=max(ordinary, serious),  # a range of the (workspace, ended_at) index
        )
        .filter((SERIOUS & Q(ended_at__lt=serious)) | (~SERIOUS & Q(ended_at__lt=ordinary)))
        .order_by("ended_at")
    )


def prune_batch(workspace, now=None, size=BATCH_RUNS):
    """Delete up to `size` due runs of `workspace` and everything of theirs, in one short
    transaction; what was deleted."""
    removed = Removed()
    with transaction.atomic():
        batch = due(workspace, now)
        if connection.features.has_select_for_update_skip_locked:
            batch = batch.select_for_update(skip_locked=True, of=("self",))
        ids = list(batch.values_list("id", flat=True)[:size])
        if not ids:
            return removed
        # The big tables first, each one DELETE over its run index; then what refers to
        # the steps and runs from elsewhere; the runs last.
        removed.events = delete_at_once(RunEvent.objects.filter(run_id__in=ids))
        removed.attempts = delete_at_once(Attempt.objects.filter(run_id__in=ids))
        steps = StepRun.objects.filter(run_id__in=ids)
        StepRun.objects.filter(reused_from__in=steps.values("id")).exclude(run_id__in=ids).update(
            reused_from=None
        )
        steps.filter(compensates__isnull=False).update(compensates=None)
        removed.steps = delete_at_once(steps)
        removed.deliveries = delete_at_once(WebhookDelivery.objects.filter(run_id__in=ids))
        removed.runs = _delete_runs(ids)
    return removed


def _delete_runs(ids):
    """What Django's delete() would do for each table pointing at a run (now or added
    later), by its on_delete, without first reading every run and step into memory."""
    done = (StepRun, Attempt, RunEvent, WebhookDelivery)
    for relation in Run._meta.related_objects:
        model, column = relation.related_model, relation.field.name
        rows = model._base_manager.filter(**{f"{column}__in": ids})
        if relation.on_delete is models.SET_NULL:
            rows.update(**{column: None})
        elif model not in done:
            rows.delete()
    return delete_at_once(Run.objects.filter(id__in=ids))


def prune_pass(now=None, budget_s=PASS_BUDGET_S):
    """The sweeper's share: batches over the workspaces until none has due runs or the
    budget is spent; what was deleted. A workspace found with nothing more to delete is
    looked at again QUIET_S later (by this process), not on every pass. Then a batch of
    audit entries past AUDIT_RETENTION_DAYS."""
    removed = Removed(audit_entries=AuditEntry.purge_expired(now))
    clock = time.monotonic()
    deadline = clock + budget_s
    pending = [w for w in Workspace.objects.all() if _quiet_until.get(w.id, 0) <= clock]
    while pending and time.monotonic() < deadline:
        for workspace in list(pending):
            batch = prune_batch(workspace, now)
            removed.add(batch, workspace.id)
            if batch.runs < BATCH_RUNS:
                pending.remove(workspace)
                _quiet_until[workspace.id] = time.monotonic() + QUIET_S
            if time.monotonic() >= deadline:
                break
    return removed


def prune_all(now=None, workspaces=None):
    """Every due run now, batch after batch, and (for all workspaces) every audit entry
    past its retention (`manage.py prune`)."""
    removed = Removed()
    while workspaces is None and (batch := AuditEntry.purge_expired(now)):
        removed.audit_entries += batch
    for workspace in workspaces if workspaces is not None else Workspace.objects.all():
        while (batch := prune_batch(workspace, now)).runs:
            removed.add(batch, workspace.id)
    return removed


def figures(workspace, now=None):
    """What the workspace stores and what retention will delete, for the settings page."""
    now = now or timezone.now()
    runs = Run.objects.filter(workspace_id=workspace.id)
    doomed = due(workspace, now)
    due_runs = doomed.count()
    return {
        "runs": runs.count(),
        "attempts": Attempt.objects.filter(run__workspace_id=workspace.id).count(),
        "kept": runs.filter(keep=True).count(),
        "due_runs": due_runs,
        "due_attempts": Attempt.objects.filter(run__in=doomed.values("id")).count(),
        "next_pass": min(due_runs, BATCH_RUNS),
    }


def set_policy(workspace, keep_runs_days, keep_failed_runs_days):
    """Save a workspace's policy (the callers check the bounds: 1 to MAX_DAYS)."""
    workspace.keep_runs_days = keep_runs_days
    workspace.keep_failed_runs_days = keep_failed_runs_days
    workspace.save(update_fields=["keep_runs_days", "keep_failed_runs_days"])
    data = {"keep_runs_days": keep_runs_days, "keep_failed_runs_days": keep_failed_runs_days}
    record("workspace.retention", workspace, workspace, data=data)


def set_kept(run, keep):
    """Pin a run (retention never deletes it) or let it go again."""
    Run.objects.filter(id=run.id).update(keep=keep)
    run.keep = keep
