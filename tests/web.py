"""Runs shaped like the ones the pages show, made through the real engine (see drive)."""

from builder.definition import validate
from runner import launch
from tests.drive import drive

NO_WAIT = {"initial_interval_s": 0, "jitter": False}


def saga_steps(fail_times="{{ input.fail_times }}", max_attempts=3, retry=NO_WAIT):
    """echo -> a step with a compensation -> debug.fail (fails `fail_times` times)."""
    return [
        {"key": "greet", "action": "debug.echo", "input": {"hello": "{{ input.name }}"}},
        {
            "key": "reserve",
            "action": "debug.echo",
            "input": {"item": "book"},
            "compensate": {"action": "debug.echo", "input": {"release": "book"}},
        },
        {
            "key": "charge",
            "action": "debug.fail",
            "input": {"fail_times": fail_times},
            "retry": {"max_attempts": max_attempts, **retry},
        },
    ]


def start_order(workspace, input, **kwargs):
    definition = validate({"name": "Order checkout", "steps": saga_steps()}, workspace)
    return launch.start_run(workspace=workspace, definition=definition, input=input, **kwargs)


def compensated_run(workspace, **kwargs):
    return drive(start_order(workspace, {"name": "Ada", "fail_times": -1}, **kwargs))


def succeeded_run(workspace, **kwargs):
    return drive(start_order(workspace, {"name": "Ada", "fail_times": 1}, **kwargs))


def history(workspace, count=150, hours=24):
    """`count` finished runs spread over the last `hours`, written directly (for charts)."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from runner.models import Run

    rng = random.Random(7)
    now = timezone.now()
    runs = []
    for _ in range(count):
        status = rng.choices(["succeeded", "failed", "compensated"], [88, 6, 6])[0]
        created = now - timedelta(seconds=rng.uniform(60, hours * 3600))
        error = None
        if status != "succeeded":
            error = {
                "step": "charge",
                "message": rng.choice(["HTTP 503 from POST https://pay.example", "card declined"]),
            }
        runs.append(
            Run(
                workspace=workspace,
                definition={
                    "name": rng.choice(["Onboarding", "Invoice sync", "Checkout"]),
                    "steps": [],
                },
                status=status,
                error=error,
                trigger=rng.choice(["api", "api", "webhook", "manual"]),
                started_at=created,
                ended_at=created + timedelta(seconds=rng.uniform(0.2, 9)),
            )
        )
    made = Run.objects.bulk_create(runs)
    for run, original in zip(made, runs, strict=True):
        Run.objects.filter(id=run.id).update(created_at=original.started_at)
    return made


def big_run(workspace, steps=10, attempts=100):
    """A failed run of `steps` steps with `attempts` failed attempts each, written directly."""
    from datetime import timedelta

    from django.utils import timezone

    from core.models import ActionVersion
    from runner.models import Attempt, Run, RunEvent, StepRun

    version = ActionVersion.objects.get(action__name="debug.fail")
    specs = [
        {"key": f"s{n}", "action": version.ref, "input": {}, "after": [f"s{n - 1}"] if n else []}
        for n in range(steps)
    ]
    t0 = timezone.now() - timedelta(minutes=30)
    run = Run.objects.create(
        workspace=workspace,
        definition={"name": "big", "steps": specs},
        status="failed",
        started_at=t0,
        ended_at=t0 + timedelta(minutes=20),
        error={"step": "s9", "message": "out of attempts"},
    )
    step_rows = StepRun.objects.bulk_create(
        StepRun(
            run=run,
            key=s["key"],
            position=n,
            action_version=version,
            status="failed",
            attempt_count=attempts,
        )
        for n, s in enumerate(specs)
    )
    rows = []
    for n, step in enumerate(step_rows):
        for number in range(1, attempts + 1):
            at = t0 + timedelta(seconds=n * 100 + number)
            rows.append(
                Attempt(
                    run=run,
                    step_run=step,
                    number=number,
                    status="failed",
                    scheduled_for=at,
                    started_at=at,
                    ended_at=at + timedelta(milliseconds=300),
                    duration_ms=300,
                    error={
                        "type": "ActionError",
                        "message": f"boom {number}",
                        "traceback": "Traceback...",
                    },
                    retry_decision={
                        "retry": True,
                        "delay_s": 1,
                        "next_attempt": number + 1,
                        "max_attempts": 101,
                    },
                )
            )
    Attempt.objects.bulk_create(rows)
    RunEvent.objects.bulk_create(
        RunEvent(
            run=run, type="step.failed", step_key=s.key, step_kind="action", to_status="failed"
        )
        for s in step_rows
    )
    return run
