"""Runs, their steps and attempts, and the append-only event log the timeline is drawn from.

Only the engine's transitions change a status: a `Transition` (runner/transition.py) that
runner/engine.py and the modules it hands one to (compensation, for-each, waits, child
runs, run endings) write through, each change checked against its table of allowed moves.
Everything here is history: rows are added and moved forward, never rewritten backwards.
"""

from django.conf import settings
from django.db import models

from builder.models import Workflow, WorkflowVersion
from core.fk_indexes import where_set
from core.key_order import KeepsKeyOrder, KeyOrderField
from core.models import Action, ActionVersion, Workspace
from runner.states import (
    ACTIVE_RUN,
    FINISHED_RUN,
    AttemptStatus,
    RunStatus,
    StepKind,
    StepStatus,
    Trigger,
)


class Run(models.Model):
    # Indexed by run_ws_recent and run_workflow_recent, which lead with these columns.
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="runs", db_index=False)
    workflow = models.ForeignKey(
        Workflow, models.SET_NULL, null=True, blank=True, related_name="runs", db_index=False
    )
    workflow_version = models.ForeignKey(
        WorkflowVersion, models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    # Set for a run of one action (a one-step run).
    action = models.ForeignKey(
        Action, models.SET_NULL, null=True, blank=True, related_name="runs", db_index=False
    )
    # The definition as it was when the run started, with every action pinned, and
    # the ActionVersion id of each pinned ref: the run never looks anything up again.
    definition = models.JSONField()
    # Its key order (core/key_order.py): steps render their input templates in the order
    # they were written in. Read once per run by a worker (runner/run_state.py).
    definition_keys = KeyOrderField(source="definition")
    action_versions = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    # Why compensation started: "failed", "cancelled" or "timed_out"; decides the final status.
    ending = models.CharField(max_length=20, blank=True)
    input = models.JSONField(default=dict)
    output = models.JSONField(null=True, blank=True)
    # The key order of `input` and `output` where the database re-sorts it (core/key_order.py).
    input_keys = KeyOrderField(source="input")
    output_keys = KeyOrderField(source="output")
    error = models.JSONField(null=True, blank=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    rerun_of = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="reruns", db_index=False
    )
    rerun_from = models.CharField(max_length=10, blank=True)
    # A child run started by a sub-workflow step: the run and the step that wait for it.
    parent_run = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="children", db_index=False
    )
    parent_step = models.ForeignKey(
        "StepRun",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="child_runs",
        db_index=False,
    )
    # A rerun that succeeds marks its original resolved (ticked by default in the dialog).
    resolve_original = models.BooleanField(default=False, db_default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    needs_review = models.BooleanField(default=False)
    # Pinned by a person or program: retention never deletes it (runner/pruning.py).
    keep = models.BooleanField(default=False)
    # A run started by a schedule: which, and for which of its fire times (one run each).
    # Indexed by run_one_per_fire_time, which leads with it.
    schedule = models.ForeignKey(
        "Schedule", models.SET_NULL, null=True, blank=True, related_name="runs", db_index=False
    )
    scheduled_for = models.DateTimeField(null=True, blank=True)
    # The definition's `concurrency.key` rendered with the input: runs of one workflow
    # with the same key share its limit (runner/run_gate.py).
    concurrency_key = models.CharField(max_length=200, blank=True, default="", db_default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    # The rerun whose success resolved this run, when it was not a person.
    resolved_by_run = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # When the definition's `run_timeout_s` runs out, counted from the run's start; the
    # sweeper ends the run then (runner/run_ending.py `time_out_run`). None: no limit.
    deadline = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The runs list and dashboard: newest first within a workspace, by status.
            models.Index(fields=["workspace", "-id"], name="run_ws_recent"),
            models.Index(fields=["workspace", "status", "-id"], name="run_ws_status"),
            models.Index(fields=["workflow", "-id"], name="run_workflow_recent"),
            models.Index(fields=["workspace", "-created_at"], name="run_ws_created"),
            # The failures inbox and the sidebar's count of it on every page: only the few
            # unresolved failed runs, not a walk through the workspace's history.
            models.Index(
                fields=["workspace", "-id"],
                name="run_unresolved",
                condition=(
                    models.Q(status__in=["failed", "compensated"]) | models.Q(needs_review=True)
                )
                & models.Q(resolved_at__isnull=True),
            ),
            # /metrics folds the runs that ended since its last scrape (metrics_totals.py).
            models.Index(fields=["ended_at"], name="run_ended"),
            # Retention's scan: the oldest finished runs of a workspace, a batch at a time.
            models.Index(fields=["workspace", "ended_at"], name="run_ws_ended"),
            # The sweeper's scan for active runs with nothing in flight (every second):
            # only the few active rows, not a sequential scan of the whole history.
            models.Index(
                fields=["created_at"],
                name="run_active",
                condition=models.Q(status__in=["queued", "running", "compensating"]),
            ),
            # The sweeper's scan for runs past their deadline (every pass): only the few
            # running runs that have one.
            models.Index(
                fields=["deadline"],
                name="run_deadline",
                condition=models.Q(status__in=["queued", "running"], deadline__isnull=False),
            ),
            # (On PostgreSQL, migration 0015 adds `run_input_path`, a GIN index on input
            # with jsonb_path_ops, for the runs search: runner/run_search.py.)
            # The run gate's count of a workflow's active runs, per concurrency key.
            models.Index(
                fields=["workflow", "concurrency_key", "status"],
                name="run_active_by_key",
                condition=models.Q(status__in=["queued", "running", "compensating"]),
            ),
            *where_set(
                ("action", "run_action"),
                ("rerun_of", "run_rerun_of"),
                ("parent_run", "run_parent_run"),
                ("parent_step", "run_parent_step"),
                ("created_by", "run_created_by"),
                ("resolved_by_run", "run_resolved_by"),
            ),
        ]
        constraints = [
            # Exactly one run per fire time, however many sweepers fire the schedule.
            models.UniqueConstraint(
                fields=["schedule", "scheduled_for"], name="run_one_per_fire_time"
            ),
        ]

    def __str__(self):
        return f"run {self.id} ({self.status})"

    @property
    def is_finished(self):
        return self.status in FINISHED_RUN

    @property
    def is_active(self):
        return self.status in ACTIVE_RUN

    @property
    def duration_s(self):
        if self.started_at is None:
            return None
        from django.utils import timezone

        return ((self.ended_at or timezone.now()) - self.started_at).total_seconds()

    @property
    def title(self):
        if self.workflow_id:
            return self.workflow.name
        if self.action_id:
            return self.action.name
        return self.definition.get("name") or f"Run {self.id}"

    def step_spec(self, key):
        for step in self.definition["steps"]:
            if step["key"] == key:
                return step
        raise KeyError(key)


class StepRun(models.Model):
    run = models.ForeignKey(Run, models.CASCADE, related_name="steps")
    key = models.CharField(max_length=63)
    kind = models.CharField(max_length=20, choices=StepKind.choices, default=StepKind.ACTION)
    position = models.PositiveIntegerField(default=0)
    # None for a step the engine decides itself (a switch): no worker, no attempt.
    action_version = models.ForeignKey(
        ActionVersion, models.PROTECT, null=True, blank=True, related_name="+"
    )
    compensates = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="compensations", db_index=False
    )
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING)
    # The input as rendered when the step started; `{{ secrets.* }}` stay unrendered.
    input = models.JSONField(null=True, blank=True)
    # Where the definition (never the data) writes `{{ secrets.X }}`: filled by the worker.
    secret_slots = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    input_keys = KeyOrderField(source="input")  # core/key_order.py
    output_keys = KeyOrderField(source="output")
    error = models.JSONField(null=True, blank=True)
    # A failure taken by one of the step's `on_error` routes: {"route", "match", "next"}.
    handled = models.JSONField(null=True, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    # A rerun from the failed step copies succeeded steps instead of running them again.
    reused_from = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="reused_by", db_index=False
    )
    # A waiting step (runner/waits.py): when the sweeper wakes it (a sleep's end, an
    # event's or approval's timeout; None: never), and what it waits for: "sleep",
    # "event:<name>" or "approval:<role>", for the API and the "Waiting for me" page.
    wake_at = models.DateTimeField(null=True, blank=True)
    waiting_for = models.CharField(max_length=120, blank=True, default="", db_default="")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # A for-each step's children (runner/for_each.py): its items and their compensations
    # point at it, with the item's position in the list and its value. The engine's read
    # of a run's steps leaves them out, so an item costs nothing to its siblings.
    # Indexed by item_by_status and unique_item_per_step, which lead with it.
    parent = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="children", db_index=False
    )
    item_index = models.PositiveIntegerField(null=True, blank=True)
    item = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "kind", "key"],
                name="unique_step_per_run",
                condition=models.Q(parent__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["parent", "kind", "item_index"],
                name="unique_item_per_step",
                condition=models.Q(parent__isnull=False),
            ),
        ]
        indexes = [
            # The engine's read of a run's own steps (children left out), and a for-each's
            # count of its running items and pick of the next pending ones, by index.
            models.Index(
                fields=["run", "position", "id"],
                name="step_top_level",
                condition=models.Q(parent__isnull=True),
            ),
            models.Index(
                fields=["parent", "kind", "status", "item_index"],
                name="item_by_status",
                condition=models.Q(parent__isnull=False),
            ),
            # The sweeper's scan for due waits, several times a second: only waiting rows.
            models.Index(
                fields=["wake_at"], name="step_waiting", condition=models.Q(status="waiting")
            ),
            *where_set(("compensates", "step_compensates"), ("reused_from", "step_reused_from")),
        ]
        ordering = ["run_id", "position", "id"]

    def __str__(self):
        return f"{self.kind} {self.key} ({self.status})"


class Attempt(models.Model):
    run = models.ForeignKey(Run, models.CASCADE, related_name="attempts")
    # Indexed by unique_attempt_number, which leads with it.
    step_run = models.ForeignKey(StepRun, models.CASCADE, related_name="attempts", db_index=False)
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=20, choices=AttemptStatus.choices, default=AttemptStatus.SCHEDULED
    )
    scheduled_for = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    output_keys = KeyOrderField(source="output")  # core/key_order.py
    error = models.JSONField(null=True, blank=True)
    # What the action logged while it ran (runner/attempt_log.py): the last lines, masked.
    log = models.TextField(blank=True, default="", db_default="")
    # What the engine decided after this attempt failed: {"retry": true, "delay_s": 0.4,
    # "next_attempt": 3, "max_attempts": 5} or {"retry": false, "reason": "..."}.
    retry_decision = models.JSONField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    # The sweeper's re-sends of this attempt's message (runner/sweeper.py): how many, and
    # not again before when, so a backlog is not re-sent on every pass.
    resent_count = models.PositiveIntegerField(default=0, db_default=0)
    resend_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step_run", "number"], name="unique_attempt_number")
        ]
        indexes = [
            # The sweeper's scans: attempts still scheduled or running, oldest first.
            models.Index(
                fields=["status", "scheduled_for"],
                name="attempt_open",
                condition=models.Q(status__in=["scheduled", "running"]),
            ),
        ]

    def __str__(self):
        return f"attempt {self.number} of {self.step_run.key} ({self.status})"


class RunEvent(models.Model):
    """Append-only: one row per transition. The timeline polls it with an id cursor."""

    # Indexed by event_run_cursor, which leads with it.
    run = models.ForeignKey(Run, models.CASCADE, related_name="events", db_index=False)
    type = models.CharField(max_length=40)
    step_key = models.CharField(max_length=80, blank=True)  # "key[index]" for an item
    step_kind = models.CharField(max_length=20, blank=True)
    attempt = models.PositiveIntegerField(null=True, blank=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["run", "id"], name="event_run_cursor")]
        ordering = ["id"]

    def __str__(self):
        return f"{self.type} {self.step_key} {self.from_status}->{self.to_status}"


class Overlap(models.TextChoices):
    """What a fire time does while the schedule's previous run is still going."""

    SKIP = "skip", "Skip it"
    BUFFER_ONE = "buffer_one", "Run it after the previous one (one waits at most)"
    ALLOW_ALL = "allow_all", "Run it alongside"
    CANCEL_PREVIOUS = "cancel_previous", "Cancel the previous run, then run it"


class Schedule(KeepsKeyOrder, models.Model):
    """Runs of a workflow's latest published version on a clock (runner/schedules.py)."""

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="schedules")
    workflow = models.ForeignKey(Workflow, models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=100)
    cron = models.CharField(max_length=100, blank=True)
    interval_s = models.PositiveIntegerField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    input = models.JSONField(default=dict, blank=True)
    # Its key order (core/key_order.py): the API and the runs it starts keep it.
    input_keys = KeyOrderField(source="input")
    overlap = models.CharField(max_length=20, choices=Overlap.choices, default=Overlap.SKIP)
    # Fire times missed while nothing swept (Brickwork down) still fire if this recent.
    catchup_window_s = models.PositiveIntegerField(default=3600)
    paused = models.BooleanField(default=False)
    next_fire_at = models.DateTimeField(null=True, blank=True)
    buffered_for = models.DateTimeField(null=True, blank=True)  # buffer_one's waiting time
    last_fired_at = models.DateTimeField(null=True, blank=True)
    missed = models.PositiveIntegerField(default=0)  # fire times past the catch-up window
    skipped = models.PositiveIntegerField(default=0)  # fire times skipped by the overlap
    last_error = models.TextField(blank=True)  # why the last fire time started no run
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "name"], name="schedule_name_unique")
        ]
        indexes = [
            # The sweeper's scan: due, unpaused schedules only.
            models.Index(
                fields=["next_fire_at"], name="schedule_due", condition=models.Q(paused=False)
            ),
        ]

    def __str__(self):
        return f"schedule {self.name} of {self.workflow_id}"


class MetricTotal(models.Model):
    """A /metrics counter's value over the history folded so far (runner/metrics_totals.py)."""

    family = models.CharField(max_length=40)
    labels = models.CharField(max_length=500)  # the label values, as a JSON list
    value = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["family", "labels"], name="metric_total_unique")
        ]


class MetricWatermark(models.Model):
    """How far /metrics has folded a kind of history: up to a time, or up to an id."""

    name = models.CharField(max_length=40, unique=True)
    until = models.DateTimeField(null=True, blank=True)
    position = models.BigIntegerField(null=True, blank=True)


# Alert rules, alerts and their deliveries live in their own module.
from runner.alert_models import Alert, AlertDelivery, AlertEvent, AlertRule  # noqa: E402, F401


class KeyPart(models.TextChoices):
    VALUE = "value", "its value"
    HOST = "host", "the host of the URL it holds"


class ActionLimit(models.Model):
    """At most `max_concurrent` attempts of an action at once and `rate_per_s` started per
    second (with `burst`), in one workspace; with a `key` (a reference into the step's
    input, e.g. `{{ url }}` and its host), each value has limits of its own
    (runner/action_limits.py, enforced by runner/throttle.py)."""

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="action_limits")
    name = models.CharField(max_length=100)
    action = models.CharField(max_length=200)
    key = models.CharField(max_length=200, blank=True)
    key_part = models.CharField(max_length=10, choices=KeyPart.choices, default=KeyPart.VALUE)
    max_concurrent = models.PositiveIntegerField(null=True, blank=True)
    rate_per_s = models.FloatField(null=True, blank=True)
    burst = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="action_limit_name_unique")
        ]
        ordering = ["action", "name"]

    def __str__(self):
        return f"limit {self.name} on {self.action}"
