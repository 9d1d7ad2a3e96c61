"""The runs list: keyset pages on id (no OFFSET), filters, and a constant query count."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runner.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(workspace):
    statuses = ["succeeded", "failed", "compensated"]
    made = Run.objects.bulk_create(
        Run(
            workspace=workspace,
            definition={"name": f"wf{n % 3}", "steps": []},
            status=statuses[n % 3],
        )
        for n in range(120)
    )
    return sorted(run.id for run in made)


def ids_on(html):
    return [int(n) for n in re.findall(r'id="run-row-(\d+)"', html)]


def cursor(html, name):
    found = re.search(rf"{name}=(\d+)", html)
    return int(found.group(1)) if found else None


def test_pages_walk_back_and_forth_by_id(client, alice, runs):
    client.force_login(alice)
    first = client.get("/w/acme/runs/").content.decode()
    assert ids_on(first) == runs[::-1][:50]
    assert cursor(first, "after") is None  # nothing newer than page 1
    second = client.get(f"/w/acme/runs/?before={cursor(first, 'before')}").content.decode()
    assert ids_on(second) == runs[::-1][50:100]
    third = client.get(f"/w/acme/runs/?before={cursor(second, 'before')}").content.decode()
    assert ids_on(third) == runs[::-1][100:]
    assert cursor(third, "before") is None  # the last page
    back = client.get(f"/w/acme/runs/?after={cursor(third, 'after')}").content.decode()
    assert ids_on(back) == ids_on(second)


def test_filters_combine_with_pages(client, alice, runs, workspace):
    client.force_login(alice)
    Run.objects.filter(id=runs[0]).update(created_at=timezone.now() - timedelta(days=3))
    html = client.get("/w/acme/runs/?status=failed").content.decode()
    assert len(ids_on(html)) == 40
    assert set(Run.objects.filter(id__in=ids_on(html)).values_list("status", flat=True)) == {
        "failed"
    }
    html = client.get("/w/acme/runs/?since=24h&status=succeeded").content.decode()
    assert runs[0] not in ids_on(html) and len(ids_on(html)) == 39
    html = client.get("/w/acme/runs/?trigger=webhook").content.decode()
    assert ids_on(html) == []


def test_deep_pages_cost_what_the_first_does(client, alice, runs):
    client.force_login(alice)
    client.get("/w/acme/")  # the first page of a workspace also saves it in the session
    with CaptureQueriesContext(connection) as first:
        client.get("/w/acme/runs/")
    with CaptureQueriesContext(connection) as deep:
        client.get(f"/w/acme/runs/?before={runs[10]}")
    # Only the first page updates live: it also reads where the event log ends (its cursor).
    assert len(first) == len(deep) + 1
    page_query = next(q["sql"] for q in deep if "runner_run" in q["sql"] and "LIMIT 51" in q["sql"])
    assert "OFFSET" not in page_query


def test_htmx_filter_returns_only_the_results(client, alice, runs):
    client.force_login(alice)
    html = client.get("/w/acme/runs/?status=failed", HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="results">')


def test_other_workspaces_runs_are_not_listed(client, charlie, runs):
    client.force_login(charlie)
    assert ids_on(client.get("/w/globex/runs/").content.decode()) == []
    assert client.get("/w/acme/runs/").status_code == 404
