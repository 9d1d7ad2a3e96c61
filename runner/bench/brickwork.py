"""Brickwork: runs of a published 20-step workflow of `debug.echo`, every attempt recorded.

The bench process starts the runs through the engine, as the API does, and reads the
figures from the rows the workers wrote (the attempts' and runs' own timestamps), so
the bench's polling interval never enters a figure.
"""

import random
import sys
import time

from django.db.models import Max

from runner import launch
from runner.bench.processes import Child, wait_until
from runner.bench.stats import percentile

WORKSPACE_SLUG = "bench"


class Brickwork:
    """`inline=False` measures the engine with INLINE_PURE_STEPS off: a transaction per step,
    the cost of any chain of actions that are not declared pure."""

    def __init__(self, *, processes, threads, env, steps, inline=True):
        self.name = "brickwork" if inline else "brickwork_per_step"
        self.worker = Child(
            f"bench-{self.name}",
            ["-m", "dramatiq", "runner.worker:broker"]
            + ["--processes", str(processes), "--threads", str(threads)],
            env={**env, "INLINE_PURE_STEPS": "1" if inline else "0"},
        )
        self.steps = steps

    def start(self):
        from core.models import WorkerHeartbeat
        from runner.states import ACTIVE_RUN
        from runner.tasks import broker

        broker.flush_all()
        WorkerHeartbeat.objects.all().delete()
        self.workspace, self.workflow, self.version = _published_workflow(self.steps)
        # Leftovers of an interrupted bench would be re-sent by the sweeper and skew a round.
        self.workspace.runs.filter(status__in=ACTIVE_RUN).delete()
        _vacuum()
        self.single = _single_action_definition(self.workspace)
        self.worker.start()
        wait_until(
            lambda: WorkerHeartbeat.objects.exists() or not self.worker.alive(),
            60,
            interval=0.1,
            what="a Brickwork worker heartbeat",
        )
        if not self.worker.alive():
            raise RuntimeError(f"the Brickwork worker exited; see {self.worker.log_path}")
        self.idle(self.steps)  # warm

    def stop(self):
        self.worker.stop()

    def _start(self, definition=None):

        if definition is None:
            return launch.start_run(
                workspace=self.workspace,
                definition=self.version.definition,
                input={"bench": True},
                workflow=self.workflow,
                workflow_version=self.version,
            )
        return launch.start_run(workspace=self.workspace, definition=definition, input={})

    def throughput(self, count, steps):
        """`count` runs started at once -> steps per second; checks every attempt is recorded."""
        from runner.models import Attempt, Run

        started = time.time()
        ids = [self._start().id for _ in range(count)]
        runs = Run.objects.filter(id__in=ids)
        _wait_ended(runs, count, timeout=180)
        ended = runs.aggregate(last=Max("ended_at"))["last"].timestamp()
        succeeded = runs.filter(status="succeeded").count()
        recorded = Attempt.objects.filter(run_id__in=ids, status="succeeded").count()
        if succeeded != count or recorded != count * self.steps:
            print(
                f"brickwork: {succeeded}/{count} runs succeeded, "
                f"{recorded}/{count * self.steps} attempts recorded",
                file=sys.stderr,
            )
        self.recorded = recorded
        return recorded / (ended - started)

    def idle(self, steps, timeout=30):
        """One run on an idle system -> milliseconds from start_run to the run's end."""
        from runner.models import Run

        started = time.time()
        run_id = self._start().id
        runs = Run.objects.filter(id=run_id)
        _wait_ended(runs, 1, timeout)
        return (runs.get().ended_at.timestamp() - started) * 1000

    def start_latency(self, count):
        """Single-action runs triggered one by one at random moments -> (p50, p99) in ms."""
        from runner.models import Attempt

        latencies = []
        for _ in range(count):
            time.sleep(random.uniform(0, 0.03))
            started = time.time()
            run = self._start(self.single)
            first = wait_until(
                lambda run=run: (
                    Attempt.objects.filter(run_id=run.id, started_at__isnull=False)
                    .values_list("started_at", flat=True)
                    .first()
                ),
                30,
                interval=0.005,
                what="the first attempt",
            )
            latencies.append((first.timestamp() - started) * 1000)
        return percentile(latencies, 50), percentile(latencies, 99)


def _vacuum():
    """What autovacuum does between rounds in production (it may be off on a bench box):
    without it, the dead rows of the last round's attempts slow the sweeper's scans."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) runner_attempt, runner_steprun, runner_run, runner_runevent"
        )


def _wait_ended(runs, count, timeout):
    from runner.states import FINISHED_RUN

    wait_until(
        lambda: runs.filter(status__in=FINISHED_RUN).count() >= count,
        timeout,
        interval=0.02,
        what=f"{count} runs ended",
    )


def _published_workflow(steps):
    from builder.definition import validate
    from builder.models import Workflow
    from core.models import Workspace

    workspace, _ = Workspace.objects.get_or_create(
        slug=WORKSPACE_SLUG, defaults={"name": "Benchmark"}
    )
    slug = f"echo-{steps}"
    workflow, _ = Workflow.objects.get_or_create(
        workspace=workspace, slug=slug, defaults={"name": f"{steps} echo steps"}
    )
    version = workflow.latest_version()
    if version is None:
        definition = {
            "name": workflow.name,
            "steps": [
                {"key": f"s{n}", "action": "debug.echo", "input": {"n": n}} for n in range(steps)
            ],
        }
        version = workflow.publish(validate(definition, workspace), note="bench")
    return workspace, workflow, version


def _single_action_definition(workspace):
    from builder.definition import validate

    return validate(
        {"name": "debug.echo", "steps": [{"key": "echo", "action": "debug.echo"}]}, workspace
    )
