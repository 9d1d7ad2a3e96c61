"""A for-each's cost does not grow with its items: the queries per finished item are a
constant, and the run page and the items page take the same queries at 10 and at 1,000
items. Runs are driven in-process by the executor (tests/runner/test_query_counts.py)."""

import re
from contextlib import nullcontext

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runner import executor
from runner.models import Attempt
from tests.runs import start

pytestmark = pytest.mark.django_db
# Queries per item (tests/runner/test_query_counts.py): SQLite sends each write apart.
PER_ITEM = {"postgresql": 12, "sqlite": 20}


def _drop(dispatches):
    """The messages are not needed: the test runs every scheduled attempt itself."""


def run_items(workspace, items, *, fail_every=0, max_concurrency=10, count=True):
    steps = [
        {
            "key": "each",
            "action": "debug.fail",
            "for_each": "{{ input.items }}",
            "max_concurrency": max_concurrency,
            "on_item_failure": "collect",
            "retry": {"max_attempts": 1},
            "input": {"fail_times": "{{ item.fail }}"},
        }
    ]
    rows = [{"fail": -1 if fail_every and i % fail_every == 7 else 0} for i in range(items)]
    run = start(workspace, steps, {"items": rows})
    with CaptureQueriesContext(connection) if count else nullcontext() as captured:
        while attempt := Attempt.objects.filter(run=run, status="scheduled").first():
            executor.execute_attempt(attempt.id, "test-worker", send=_drop)
    run.refresh_from_db()
    return run, len(captured) if count else None


def test_each_further_item_costs_the_same_few_queries(workspace):
    run_items(workspace, 2)  # caches warm, as in a running worker
    (_, five), (_, forty_five), (run, eighty_five) = (run_items(workspace, n) for n in (5, 45, 85))
    assert run.status == "succeeded"
    assert len(run.output) == 85
    # Per item: the loop's own read of the next attempt, then the claim and the report;
    # the same from the 5th item to the 45th as from the 45th to the 85th: not quadratic.
    first, second = (forty_five - five) / 40, (eighty_five - forty_five) / 40
    assert abs(first - second) <= 0.5, (five, forty_five, eighty_five)
    assert second <= PER_ITEM[connection.vendor], (five, forty_five, eighty_five)


def _queries(client, url):
    client.get("/w/acme/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code in (200, 286), response.status_code
    return len(captured), response.content.decode()


def test_the_run_page_and_the_items_page_take_the_same_queries_at_10_and_1000_items(
    client, workspace, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    small, _ = run_items(workspace, 10, fail_every=100)
    big, _ = run_items(workspace, 1000, fail_every=100, count=False)
    assert big.status == "failed"
    assert big.steps.get(kind="action").error["failed_items"] == list(range(7, 1000, 100))
    counts = {}
    for name, run in (("small", small), ("big", big)):
        pages = {
            "run": f"/w/acme/runs/{run.id}/",
            "poll": f"/w/acme/runs/{run.id}/timeline?after=0",
            "items": f"/w/acme/runs/{run.id}/items/each/",
            "failures": f"/w/acme/runs/{run.id}/items/each/?only=failures",
            "page": f"/w/acme/runs/{run.id}/items/each/?page=3",
        }
        counts[name] = {page: _queries(client, url)[0] for page, url in pages.items()}
    assert counts["small"] == counts["big"], counts
    with django_assert_max_num_queries(16):
        client.get(f"/w/acme/runs/{big.id}/items/each/?only=failures")
    _, html = _queries(client, f"/w/acme/runs/{big.id}/")
    assert "× 1000 items" in html
    assert "990 succeeded" in html and "10 failed" in html
    assert 'id="item-' not in html  # the run page lists no item
    _, html = _queries(client, f"/w/acme/runs/{big.id}/items/each/?only=failures")
    assert html.count('<tr id="item-') == 10
    assert 'id="item-907"' in html
    _, html = _queries(client, f"/w/acme/runs/{big.id}/items/each/?page=2")
    assert html.count('<tr id="item-') == 50
    assert 'id="item-50"' in html and "Page 2 of 20" in html


def test_the_items_page_is_not_found_for_a_step_without_for_each(client, workspace, alice):
    client.force_login(alice)
    run = start(workspace, [{"key": "one", "action": "debug.echo"}])
    assert client.get(f"/w/acme/runs/{run.id}/items/one/").status_code == 404
    assert client.get(f"/w/acme/runs/{run.id}/items/nothing/").status_code == 404


# A data column in a query's select list (`IS NULL` only asks whether there is one).
READS_DATA = re.compile(r'\."(output|input)"(?! IS)')


def test_the_run_page_of_a_for_each_reads_no_output(client, workspace, alice):
    # Given a run that ends with a for-each: the step's output, and the run's, is every
    # item's output
    client.force_login(alice)
    run, _ = run_items(workspace, 30, count=False)
    assert run.status == "succeeded" and len(run.output) == 30
    # When its page, its poll and its items pages are read
    for url in (
        f"/w/acme/runs/{run.id}/",
        f"/w/acme/runs/{run.id}/timeline?after=0",
        f"/w/acme/runs/{run.id}/items/each/",
        f"/w/acme/runs/{run.id}/items/each/?page=1",
    ):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code in (200, 286), url
        # Then no query selects an input or an output (the run's, the step's, the items')
        reads = [q["sql"] for q in captured if READS_DATA.search(q["sql"])]
        assert reads == [], (url, reads)
    # and the run's input and output come when their pane is opened
    response = client.get(f"/w/acme/runs/{run.id}/")
    assert b'id="run-io"' in response.content and b"Run input and output" in response.content
    response = client.get(f"/w/acme/runs/{run.id}/io")
    assert response.status_code == 200
    assert b"<h4>Output</h4>" in response.content
