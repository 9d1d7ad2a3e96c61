"""Brickwork: runs of a published 20-step workflow, every attempt recorded.

Two contenders: `brickwork_per_step` chains `debug.fib` (an action like users' own
functions, not declared pure: a transaction per step), the figure real work gets;
`brickwork` chains the pure `debug.echo`, whose steps run inline ("local steps").
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


# What each contender chains: (action, its input). fib(1) is a function call's worth of work.
CHAINS = {
    "brickwork_per_step": ("debug.fib", {"n": 1}),
    "brickwork_async_commit": ("debug.fib", {"n": 1}),
    "brickwork": ("debug.echo", {"n": 0}),
}


class Brickwork:
    """`local=False`: a chain of a non-pure action, a transaction per step (what an
    `http.request`, an `email.send` or a user's function gets). `local=True`: a chain of a
    pure action, run inline by the engine like Temporal's local activities."""

    def __init__(self, *, processes, threads, env, steps, local=False, async_commit=False):
        if async_commit:  # the per-step path without waiting for the WAL flush: its own line
            self.name = "brickwork_async_commit"
            env = {**env, "ASYNC_STEP_COMMIT": "1"}
        else:
            self.name = "brickwork" if local else "brickwork_per_step"
        self.worker = Child(
            f"bench-{self.name}",
            ["-m", "dramatiq", "runner.worker:broker"]
            + ["--processes", str(processes), "--threads", str(threads)],
            env=env,
        )
        self.steps = steps
        self.idle_runs = []  # ids of the runs `idle` measured: the step-to-step gaps' source

    def start(self):
        from core.models import WorkerHeartbeat
        from runner.states import ACTIVE_RUN
        from runner.tasks import broker

        broker.flush_all()
        WorkerHeartbeat.objects.all().delete()
        self.workspace, self.workflow, self.version = published_workflow(
            self.steps, *CHAINS[self.name]
        )
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
        self.idle_runs.append(run_id)
        return (runs.get().ended_at.timestamp() - started) * 1000

    def step_overhead(self):
        """(p50, p99) ms from one step's attempt start to the next one's, over the idle runs
        measured so far. The action (fib(1)) takes microseconds, so this is the engine's
        whole cost per step. Not end -> start: the engine stamps a step's end and an
        eagerly claimed next step's start with one transaction's clock, so that gap is 0
        by construction and would hide the commit."""
        gaps = step_gaps(self.idle_runs)
        self.idle_runs = []
        if not gaps:
            return None, None
        return percentile(gaps, 50), percentile(gaps, 99)

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


def step_gaps(run_ids):
    """Milliseconds between consecutive steps' attempt starts in sequential runs."""
    from runner.models import Attempt

    rows = (
        Attempt.objects.filter(run_id__in=run_ids, status="succeeded")
        .order_by("run_id", "step_run__position")
        .values_list("run_id", "started_at")
    )
    gaps, previous = [], None
    for run_id, started_at in rows:
        if previous and previous[0] == run_id:
            gaps.append((started_at - previous[1]).total_seconds() * 1000)
        previous = (run_id, started_at)
    return gaps


def published_workflow(steps, action, step_input):
    """The bench workspace's published chain of `steps` steps of `action`, made once."""
    from builder.definition import validate
    from builder.models import Workflow
    from core.models import Workspace

    workspace, _ = Workspace.objects.get_or_create(
        slug=WORKSPACE_SLUG, defaults={"name": "Benchmark"}
    )
    slug = f"{action.replace('.', '-')}-{steps}"
    workflow, _ = Workflow.objects.get_or_create(
        workspace=workspace, slug=slug, defaults={"name": f"{steps} {action} steps"}
    )
    version = workflow.latest_version()
    if version is None:
        definition = {
            "name": workflow.name,
            "steps": [
                {"key": f"s{n}", "action": action, "input": step_input} for n in range(steps)
            ],
        }
        version = workflow.publish(validate(definition, workspace), note="bench")
    return workspace, workflow, version


def _single_action_definition(workspace):
    from builder.definition import validate

    return validate(
        {"name": "debug.echo", "steps": [{"key": "echo", "action": "debug.echo"}]}, workspace
    )
