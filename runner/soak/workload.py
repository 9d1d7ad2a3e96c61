"""The mixed runs the soak submits: sleeps, parallel branches, flaky steps, compensations.

Every step may be retried (workers are killed under it); a run's input carries the soak's
own submission number, so the report can find every run it was told about.
"""

# Worker kills turn a running attempt into a timeout; enough attempts ride that out.
RETRY = {"max_attempts": 6, "initial_interval_s": 0.2, "backoff_coefficient": 2, "jitter": True}


def _step(key, action, input, after=None, **extra):
    step = {"key": key, "action": action, "input": input, "retry": RETRY, **extra}
    if after is not None:
        step["after"] = after
    return step


def _sleep(key, ms, after=None):
    return _step(key, "debug.sleep", {"ms": ms}, after, timeout_s=5)


def _undo(key):
    return {"action": "debug.echo", "input": {"undo": key}, "retry": RETRY}


DEFINITIONS = {
    # What each kind should end as when nothing goes wrong.
    "sleeps": (
        "succeeded",
        [
            _step("first", "debug.echo", {"n": "{{ input.n }}"}),
            _sleep("nap", 300),
            _step("last", "debug.echo", {"n": "{{ steps.first.output.n }}"}),
        ],
    ),
    "parallel": (
        "succeeded",
        [
            _step("split", "debug.echo", {"n": "{{ input.n }}"}),
            _sleep("left", 150, after=["split"]),
            _sleep("middle", 250, after=["split"]),
            _step("right", "debug.echo", {"side": "right"}, after=["split"]),
            _step("join", "debug.echo", {"done": True}, after=["left", "middle", "right"]),
        ],
    ),
    "flaky": (
        "succeeded",
        [
            _step("before", "debug.echo", {"n": "{{ input.n }}"}),
            _step("flaky", "debug.fail", {"fail_times": 2}),
            _step("after", "debug.echo", {"ok": True}),
        ],
    ),
    "failing": (
        "compensated",
        [
            _step("reserve", "debug.echo", {"n": "{{ input.n }}"}, compensate=_undo("reserve")),
            _sleep("charge", 100) | {"compensate": _undo("charge")},
            _step(
                "ship",
                "debug.fail",
                {"fail_times": -1},
                retry={"max_attempts": 2, "initial_interval_s": 0.1, "jitter": False},
            ),
        ],
    ),
}


def expected_status(kind):
    return DEFINITIONS[kind][0]


def published(workspace):
    """{kind: WorkflowVersion}, published once per database."""
    from builder.definition import validate
    from builder.models import Workflow

    versions = {}
    for kind, (_, steps) in DEFINITIONS.items():
        workflow, _ = Workflow.objects.get_or_create(
            workspace=workspace, slug=f"soak-{kind}", defaults={"name": f"soak {kind}"}
        )
        definition = validate({"name": workflow.name, "steps": steps}, workspace)
        latest = workflow.latest_version()
        if latest is None or latest.definition != definition:
            latest = workflow.publish(definition, note="soak")
        versions[kind] = latest
    return versions
