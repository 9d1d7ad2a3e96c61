"""A for-each step's items through the API: the run counts them by status (its answer does
not grow with them), and `GET /runs/<id>/steps/<key>/items` lists them a page at a time,
failures only if asked; another workspace's run is a 404, a bad query a 422."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import ApiKey
from tests.api import error_of
from tests.runner.test_for_each_pages import READS_DATA, run_items
from tests.runs import start

pytestmark = pytest.mark.django_db


def _detail_queries(api, run):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/runs/{run.id}")
    assert response.status_code == 200
    return len(captured), response.json()


def test_the_run_counts_its_items_and_links_to_their_pages(api, workspace):
    # Given runs of a for-each of 10 and of 60 items, some failing (items 7; 7 and 57)
    small, _ = run_items(workspace, 10, fail_every=50, count=False)
    big, _ = run_items(workspace, 60, fail_every=50, count=False)
    # When each is read (after a first request: the key's caches warm)
    api.get(f"/runs/{small.id}")
    (small_queries, _), (big_queries, detail) = (_detail_queries(api, r) for r in (small, big))
    # Then the answer has the step, not its items, with their counts and where to read them
    assert [(s["key"], s["kind"]) for s in detail["steps"]] == [("each", "action")]
    assert detail["steps"][0]["items"] == {
        "total": 60,
        "counts": {"succeeded": 58, "failed": 2},
        "url": f"/api/v1/runs/{big.id}/steps/each/items",
    }
    # in the same number of queries as for 10 items
    assert big_queries == small_queries


def test_items_come_a_page_at_a_time_in_order_and_failures_alone(api, workspace):
    run, _ = run_items(workspace, 60, fail_every=50, count=False)
    url = f"/api/v1/runs/{run.id}/steps/each/items"
    # When the pages of 25 are followed
    seen, cursor = [], None
    for _ in range(5):
        page = api.get(url[7:] + "?limit=25" + (f"&cursor={cursor}" if cursor else "")).json()
        assert (page["total"], page["counts"]) == (60, {"succeeded": 58, "failed": 2})
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Then every item comes once, in list order, with its value, attempts and status
    assert [item["index"] for item in seen] == list(range(60))
    first = seen[0]
    assert first["item"] == {"fail": 0} and first["status"] == "succeeded"
    assert [a["status"] for a in first["attempts"]] == ["succeeded"]
    assert seen[7]["status"] == "failed" and seen[7]["error"]["type"]
    # And status=failed lists the failures only
    failed = api.get(url[7:] + "?status=failed").json()
    assert [item["index"] for item in failed["items"]] == [7, 57]
    assert failed["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    ["cursor=abc", "cursor=-1", "cursor=1.5", "cursor=9999999999", "limit=0", "limit=201",
     "status=nope", "stauts=failed"],
)  # fmt: skip
def test_a_bad_items_query_is_a_422_in_the_error_shape(api, workspace, query):
    run, _ = run_items(workspace, 3, count=False)
    response = api.get(f"/runs/{run.id}/steps/each/items?{query}")
    assert response.status_code == 422
    assert error_of(response)["fields"]


def test_another_workspaces_run_and_other_steps_are_404(api, workspace, other_workspace):
    theirs, _ = run_items(other_workspace, 3, count=False)
    mine = start(workspace, [{"key": "plain", "action": "debug.echo"}])
    ours, _ = run_items(workspace, 3, count=False)
    for path in (
        f"/runs/{theirs.id}/steps/each/items",  # their run: as if it did not exist
        f"/runs/{mine.id}/steps/plain/items",  # not a for-each step
        f"/runs/{ours.id}/steps/nope/items",  # no such step
        f"/runs/{2**63}/steps/each/items",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    # And their key reads their items, not ours
    their_key = ApiKey.issue(other_workspace, "theirs")[1]
    answer = api.get(f"/runs/{theirs.id}/steps/each/items", key=their_key).json()
    assert [item["index"] for item in answer["items"]] == [0, 1, 2]


@pytest.mark.django_db(transaction=True)
def test_the_client_reads_every_item_or_the_failures(brickwork, workspace):
    run, _ = run_items(workspace, 60, fail_every=50, count=False)
    items = list(brickwork.run(run.id).items("each", limit=25))
    assert [item["index"] for item in items] == list(range(60))
    failed = list(brickwork.run(run.id).items("each", status="failed"))
    assert [item["index"] for item in failed] == [7, 57]


def test_a_page_of_items_reads_only_that_pages_outputs(api, workspace):
    # Given a run that ends with a for-each: its step's output, and the run's, is every
    # item's output
    run, _ = run_items(workspace, 30, count=False)
    assert run.status == "succeeded" and len(run.output) == 30
    # When a page of 10 items is read
    with CaptureQueriesContext(connection) as captured:
        page = api.get(f"/runs/{run.id}/steps/each/items?limit=10").json()
    assert len(page["items"]) == 10 and page["total"] == 30
    # Then the only queries that select outputs are the page's: its items (one more, to
    # know whether there is a next page) and their attempts, not the run's or the step's
    items, attempts = [q["sql"] for q in captured if READS_DATA.search(q["sql"])]
    assert "LIMIT 11" in items and '"runner_steprun"."parent_id" =' in items
    ids = re.search(r'"runner_attempt"\."step_run_id" IN \(([^)]*)\)', attempts).group(1)
    assert len(ids.split(",")) == 11
