"""Timeline: server time and query count of the run page of a run with 1,000 attempts.

The run is made once per database by the engine itself, in this process: 200 steps whose
action fails 4 times and succeeds on the 5th attempt. The pages are rendered through the
full Django stack (middleware, session, template) by the test client, in this process,
so the figure is server time only, and the query count is exact.
"""

import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from runner import launch

NAME = "timeline"
USERNAME = "bench-viewer"


def missing():
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("run_timeline", args=["x", 1])
    except NoReverseMatch:
        return "timeline: skipped (the run page is not built yet)"
    return None


def measure(attempts, samples=5):
    big = _run_with_attempts(attempts)
    small = _run_with_attempts(10)
    client = _client(big.workspace)
    figures = {}
    for is_big, run in ((True, big), (False, small)):
        page_ms, queries = _render(client, f"/w/{run.workspace.slug}/runs/{run.id}/", samples)
        part_ms, _ = _render(client, f"/w/{run.workspace.slug}/runs/{run.id}/timeline", samples)
        if not is_big:  # (a label compare mixed them up with --timeline-attempts 10)
            figures["timeline_10_queries"] = queries
        else:
            figures["timeline_1000_ms"] = page_ms
            figures["timeline_partial_1000_ms"] = part_ms
            figures["timeline_1000_queries"] = queries
    return figures


def _render(client, url, samples):
    """(median ms, queries) of GET url; the first request warms caches and is not counted."""
    client.get(url)
    times = []
    for _ in range(samples):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - began) * 1000)
        if response.status_code not in (200, 286):
            raise RuntimeError(f"GET {url} answered {response.status_code}")
    times.sort()
    return times[len(times) // 2], len(queries.captured_queries)


def _client(workspace):
    from django.contrib.auth.models import User

    from core.models import Membership, Role

    user, _ = User.objects.get_or_create(username=USERNAME)
    Membership.objects.get_or_create(workspace=workspace, user=user, defaults={"role": Role.VIEWER})
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def _run_with_attempts(attempts):
    """A succeeded run with exactly `attempts` attempts (5 per step), made once."""
    from builder.definition import validate
    from builder.models import Workflow
    from core.models import Workspace
    from runner import executor
    from runner.bench.brickwork import WORKSPACE_SLUG
    from runner.models import Attempt, Run
    from runner.states import FINISHED_RUN

    per_step = 5
    workspace, _ = Workspace.objects.get_or_create(
        slug=WORKSPACE_SLUG, defaults={"name": "Benchmark"}
    )
    workflow, _ = Workflow.objects.get_or_create(
        workspace=workspace, slug=f"timeline-{attempts}", defaults={"name": f"{attempts} attempts"}
    )
    done = Run.objects.filter(workflow=workflow, status="succeeded").order_by("-id").first()
    if done is not None and done.attempts.count() == attempts:
        return done
    retry = {"max_attempts": per_step, "initial_interval_s": 0, "jitter": False}
    steps = [
        {
            "key": f"s{n}",
            "action": "debug.fail",
            "input": {"fail_times": per_step - 1},
            "retry": retry,
        }
        for n in range(attempts // per_step)
    ]
    version = workflow.latest_version() or workflow.publish(
        validate({"name": workflow.name, "steps": steps}, workspace), note="bench"
    )
    run = launch.start_run(
        workspace=workspace,
        definition=version.definition,
        input={},
        workflow=workflow,
        workflow_version=version,
    )
    # Run here whatever is scheduled until the run ends. Its retries are also sent to the
    # broker: a worker that happens to listen (a test session's) may take one, so an
    # attempt running elsewhere is waited for, not taken for the end.
    give_up_at = time.monotonic() + 120
    while time.monotonic() < give_up_at:
        run.refresh_from_db()
        if run.status in FINISHED_RUN:
            break
        waiting = list(
            Attempt.objects.filter(run=run, status="scheduled").values_list("id", flat=True)
        )
        for attempt_id in waiting:
            executor.execute_attempt(attempt_id, "bench-timeline", send=launch.send)
        if not waiting:
            time.sleep(0.02)
    run.refresh_from_db()
    if run.status != "succeeded" or run.attempts.count() != attempts:
        raise RuntimeError(f"timeline run {run.id}: {run.status}, {run.attempts.count()} attempts")
    return run
