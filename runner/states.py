"""Statuses of runs, steps and attempts, and which changes between them are allowed."""

from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued"  # created; no attempt has started yet
    RUNNING = "running"  # at least one attempt started; steps still to do
    SUCCEEDED = "succeeded"  # every step succeeded
    COMPENSATING = "compensating"  # a step failed for good (or cancel): undoing succeeded steps
    COMPENSATED = "compensated"  # failed, and every compensation succeeded
    FAILED = "failed"  # failed with nothing to undo, or a compensation failed (needs review)
    CANCELLED = "cancelled"  # cancelled by a person or program; compensations ran


ACTIVE_RUN = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.COMPENSATING)
FINISHED_RUN = (
    RunStatus.SUCCEEDED,
    RunStatus.COMPENSATED,
    RunStatus.FAILED,
    RunStatus.CANCELLED,
)

RUN_TRANSITIONS = {
    RunStatus.QUEUED: {RunStatus.RUNNING, RunStatus.SUCCEEDED, RunStatus.COMPENSATING}
    | {RunStatus.FAILED, RunStatus.CANCELLED},
    RunStatus.RUNNING: {RunStatus.SUCCEEDED, RunStatus.COMPENSATING, RunStatus.FAILED}
    | {RunStatus.CANCELLED},
    RunStatus.COMPENSATING: {RunStatus.COMPENSATED, RunStatus.FAILED, RunStatus.CANCELLED},
    # A succeeded child run is undone when its parent compensates (runner/subflows.py).
    RunStatus.SUCCEEDED: {RunStatus.COMPENSATING},
}


class StepStatus(models.TextChoices):
    PENDING = "pending"  # waiting for the steps it runs after
    # Has an attempt scheduled (maybe delayed for a retry) or running; a sub-workflow step:
    # its child run is under way (no attempt, no worker held).
    RUNNING = "running"
    WAITING = "waiting"  # a wait step (sleep, event, approval): no attempt, no worker held
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # out of attempts, or a non-retryable error
    SKIPPED = "skipped"  # never started: the run failed or was cancelled first


STEP_TRANSITIONS = {
    StepStatus.PENDING: {StepStatus.RUNNING, StepStatus.WAITING, StepStatus.SKIPPED},
    # RUNNING -> SKIPPED: its attempt was still waiting (a retry) when the run stopped.
    StepStatus.RUNNING: {StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED},
    # WAITING -> succeeded (woke, event, decision), failed (timed out), skipped (run stopped);
    # pending: it waited for its queued run's admission (runner/waits.py), which came.
    StepStatus.WAITING: {
        StepStatus.SUCCEEDED,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
        StepStatus.PENDING,
    },
}
# A step row starts pending, or succeeded when a rerun reuses an earlier run's output.
STEP_BORN = {StepStatus.PENDING, StepStatus.SUCCEEDED}


class StepKind(models.TextChoices):
    ACTION = "action"
    COMPENSATION = "compensation"
    ITEM = "item"  # one item of a for-each step (runner/for_each.py), a child of it


class AttemptStatus(models.TextChoices):
    SCHEDULED = "scheduled"  # a message is (or will be) on its way; maybe delayed
    RUNNING = "running"  # claimed by a worker
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"  # never ran: the run stopped first


ATTEMPT_TRANSITIONS = {
    AttemptStatus.SCHEDULED: {AttemptStatus.RUNNING, AttemptStatus.CANCELLED},
    AttemptStatus.RUNNING: {AttemptStatus.SUCCEEDED, AttemptStatus.FAILED},
}
ATTEMPT_BORN = {AttemptStatus.SCHEDULED}


class Trigger(models.TextChoices):
    MANUAL = "manual"
    API = "api"
    WEBHOOK = "webhook"
    RERUN = "rerun"
    SCHEDULE = "schedule"
    PARENT = "parent"  # a sub-workflow step of another run (runner/subflows.py)
    TEST = "test"  # "Test this step" in the builder: one step's action, with sample data
