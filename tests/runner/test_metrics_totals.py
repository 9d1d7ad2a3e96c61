"""/metrics folds settled history into totals: a scrape reads what happened since, the
counters never go down when old runs are pruned, and nothing is counted twice."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runner import metrics_totals
from runner.models import Run
from tests.runs import start, wait_for


def _finished_run(workspace, steps, ended_ago):
    """A run that succeeded `ended_ago` before now (ended by the engine, then aged)."""
    run = wait_for(start(workspace, steps))
    Run.objects.filter(id=run.id).update(ended_at=timezone.now() - ended_ago)
    return run


STEPS = [{"key": "a", "action": "debug.echo"}, {"key": "b", "action": "debug.echo"}]


def test_settled_runs_are_folded_once_and_stay_counted_after_pruning(worker, workspace):
    # Given two runs that ended hours ago and one that just ended
    old = [_finished_run(workspace, STEPS, timedelta(hours=3)) for _ in range(2)]
    _finished_run(workspace, STEPS, timedelta(seconds=1))
    now = timezone.now()
    # When /metrics is scraped twice
    first = metrics_totals.figures(now)
    second = metrics_totals.figures(now + timedelta(seconds=5))
    # Then the three runs and their six attempts are counted, once
    for found in (first, second):
        assert found["runs_ended"][("", "succeeded")] == 3
        assert found["attempts"][("debug.echo", "succeeded")] == 6
    # And when the old runs are pruned, the counters do not go down
    Run.objects.filter(id__in=[run.id for run in old]).delete()
    after = metrics_totals.figures(now + timedelta(seconds=10))
    assert after["runs_ended"][("", "succeeded")] == 3
    assert after["attempts"][("debug.echo", "succeeded")] == 6
    assert after["duration"][("debug.echo", "count")] == 6


def test_a_scrape_does_not_read_folded_history(worker, workspace):
    # Given 20 runs folded into the totals by a first scrape
    for _ in range(20):
        _finished_run(workspace, STEPS, timedelta(hours=2))
    now = timezone.now()
    metrics_totals.figures(now)
    # When the next scrape runs, with nothing new
    with CaptureQueriesContext(connection) as queries:
        found = metrics_totals.figures(now + timedelta(seconds=15))
    # Then it still counts them, and no statement reads runs by anything but the
    # watermark, the active runs or the folded totals
    assert found["runs_ended"][("", "succeeded")] == 20
    reads_of_runs = [q["sql"] for q in queries if 'FROM "runner_run"' in q["sql"]]
    assert reads_of_runs and all('"ended_at" >' in sql for sql in reads_of_runs)
