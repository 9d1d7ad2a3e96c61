"""Run a run's attempts in the test process, through the real executor and engine.

For tests whose rows no worker may see (the plain `db` fixture), or that want a finished
run without waiting for one: every attempt that is due is claimed, executed and reported
exactly as a worker would. Retry policies in such tests use `initial_interval_s: 0`, so
every retry is due at once. If a live worker takes an attempt first (its messages are
sent after each commit), the drive waits for it: the claim decides who runs it.
"""

import time

from django.utils import timezone

from runner import executor, launch
from runner.models import Attempt, Run
from runner.states import AttemptStatus


def drive(run, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(id=run.id)
        if run.is_finished:
            return run
        due = list(
            Attempt.objects.filter(
                run=run, status=AttemptStatus.SCHEDULED, scheduled_for__lte=timezone.now()
            ).values_list("id", flat=True)
        )
        for attempt_id in due:
            executor.execute_attempt(attempt_id, "test-process", send=launch.send)
        if not due:
            time.sleep(0.02)  # a worker has it, or a retry is not due yet
    raise AssertionError(f"run {run.id} still {run.status} after {timeout}s")
