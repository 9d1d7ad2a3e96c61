"""Windmill's published shape: 40 sequential light steps (fib(10) each), one worker.

One worker process with one thread, so nothing runs in parallel and the figure is the
engine's per-step cost end to end: from `start_run` to the run's `ended_at`.
"""

import time

from runner.bench.processes import Child, wait_until

NAME = "windmill40"
STEPS = 40
SAMPLES = 3


def missing():
    return None


def measure(*, env):
    from core.models import WorkerHeartbeat
    from runner import launch
    from runner.bench.brickwork import published_workflow
    from runner.bench.stats import median
    from runner.models import Run
    from runner.states import FINISHED_RUN

    workspace, workflow, version = published_workflow(STEPS, "debug.fib", {"n": 10})
    WorkerHeartbeat.objects.all().delete()
    worker = Child(
        "bench-windmill40",
        ["-m", "dramatiq", "runner.worker:broker", "--processes", "1", "--threads", "1"],
        env=env,
    )
    with worker:
        wait_until(WorkerHeartbeat.objects.exists, 60, interval=0.1, what="a worker heartbeat")
        seconds = []
        for sample in range(SAMPLES + 1):  # the first one warms the worker up
            time.sleep(0.3)
            started = time.time()
            run = launch.start_run(
                workspace=workspace,
                definition=version.definition,
                input={},
                workflow=workflow,
                workflow_version=version,
            )
            runs = Run.objects.filter(id=run.id, status__in=FINISHED_RUN)
            wait_until(runs.exists, 60, interval=0.01, what="the 40-step run ended")
            if sample:
                seconds.append(runs.get().ended_at.timestamp() - started)
    return {"windmill40_s": median(seconds)}
