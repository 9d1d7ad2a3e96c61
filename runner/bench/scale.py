"""What a big history costs: the pages, /metrics and a sweeper pass, timed on a full database.

Every page is rendered through the whole Django stack (middleware, session, templates) by
the test client in this process, signed in as a workspace's owner, so the figure is the
server's time; each is requested `samples` times after one warm-up, and the p95 is kept.
The slowest request's slowest statement is shown with its plan (EXPLAIN ANALYZE).
"""

import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from runner.bench.stats import percentile


def pages(workspace_slug):
    """(name, url) of what a user opens on a big workspace."""
    from builder.models import Workflow
    from core.models import Workspace
    from runner.bench import scale_fill

    workspace = Workspace.objects.get(slug=workspace_slug)
    workflow = Workflow.objects.get(workspace=workspace, slug="orders")
    base = f"/w/{workspace_slug}"
    run_id = scale_fill.random_run_id(workspace)
    found = [
        ("runs list, first page", f"{base}/runs/"),
        (
            "runs list, failed runs of a workflow",
            f"{base}/runs/?workflow={workflow.id}&status=failed",
        ),
        ("failures inbox", f"{base}/failures/"),
        ("failures inbox, grouped by error", f"{base}/failures/?group=error"),
        ("dashboard", f"{base}/"),
        ("run page", f"{base}/runs/{run_id}/"),
    ]
    if searchable():
        found.append(("run search by input field", f"{base}/runs/?q=input.customer_id%3D42"))
    return found


def searchable():
    """Whether the runs list can search by input field yet (`q`)."""
    from runner.views.runs import RunFilter

    return "q" in RunFilter.base_fields


def measure(workspace_slug, samples, progress):
    """[(name, p95 ms, queries)] and the plan of the slowest statement seen."""
    from core.models import Workspace

    workspace = Workspace.objects.get(slug=workspace_slug)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(workspace.memberships.get(role="owner").user)
    rows, slowest = [], (0, "", "")
    for name, url in pages(workspace_slug):
        p95, queries, worst = _timed(lambda url=url: _get(client, url), samples)
        rows.append((name, p95, queries))
        slowest = max(slowest, (*worst, name), key=lambda item: item[0])
        progress(f"scale: {name}: p95 {p95:.1f} ms, {queries} queries")
    folds = _catch_up_metrics()
    progress(f"scale: /metrics caught up with the history in {folds} scrapes")
    for name, call in (("/metrics scrape", _scrape), ("one sweeper pass", _sweep)):
        p95, queries, worst = _timed(call, samples)
        rows.append((name, p95, queries))
        slowest = max(slowest, (*worst, name), key=lambda item: item[0])
        progress(f"scale: {name}: p95 {p95:.1f} ms, {queries} queries")
    return rows, _plan(slowest)


def _get(client, url):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")


def _scrape():
    from prometheus_client import generate_latest

    from runner.metrics import registry

    generate_latest(registry)


def _catch_up_metrics():
    """Scrape until /metrics has folded the filled history, as the first scrapes after an
    upgrade would (runner/metrics_totals.py): the figure is then a steady scrape's."""
    from django.utils import timezone

    from runner import metrics_totals
    from runner.models import MetricWatermark

    for scrapes in range(1, 1_000):  # bounded: each folds up to MAX_FOLD runs
        now = timezone.now()
        metrics_totals.figures(now)
        mark = MetricWatermark.objects.filter(name="runs").first()
        if mark is None or mark.until is None or mark.until >= now - metrics_totals.SETTLE:
            return scrapes
    return scrapes


def _sweep():
    from runner import sweeper

    sweeper.sweep()


def _timed(call, samples):
    """(p95 ms, queries of the last request, (ms, sql) of the slowest statement)."""
    call()  # warm-up
    times, worst = [], (0.0, "")
    for _ in range(samples):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            call()
            times.append((time.perf_counter() - began) * 1000)
        for query in captured.captured_queries:
            ms = float(query["time"]) * 1000
            if ms > worst[0]:
                worst = (ms, query["sql"])
    return percentile(times, 95), len(captured.captured_queries), worst


def _plan(slowest):
    ms, sql, name = slowest
    if not sql or not sql.lstrip().upper().startswith("SELECT"):
        return f"slowest statement ({name}, {ms:.1f} ms): {sql[:300]}"
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return f"slowest statement ({name}, {ms:.1f} ms):\n{sql}\n{plan}"
