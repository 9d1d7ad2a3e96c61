"""The failures inbox: what is in it, grouping by error, bulk rerun, resolving with a note."""

import re

import pytest

from runner.models import Run
from tests.web import compensated_run, succeeded_run

pytestmark = pytest.mark.django_db


def ids_on(html):
    return [int(n) for n in re.findall(r'id="run-row-(\d+)"', html)]


def test_inbox_lists_failed_compensated_and_flagged_runs(client, alice, workspace, other_workspace):
    client.force_login(alice)
    failed = compensated_run(workspace)
    fine = succeeded_run(workspace)
    flagged = succeeded_run(workspace)
    Run.objects.filter(id=flagged.id).update(needs_review=True)
    compensated_run(other_workspace)
    html = client.get("/w/acme/failures/").content.decode()
    assert sorted(ids_on(html)) == sorted([failed.id, flagged.id])
    assert fine.id not in ids_on(html)
    html = client.get("/w/acme/failures/?kind=review").content.decode()
    assert ids_on(html) == [flagged.id]


def test_group_by_error_counts_runs_per_message(client, alice, workspace):
    client.force_login(alice)
    for _ in range(3):
        compensated_run(workspace)
    html = client.get("/w/acme/failures/?group=error").content.decode()
    assert "debug.fail failed attempt 3 on purpose" in html
    assert re.search(r'<td class="num">3</td>', html)


def test_bulk_rerun_starts_linked_reruns_from_the_failed_step(client, alice, workspace):
    client.force_login(alice)
    runs = [compensated_run(workspace) for _ in range(2)]
    response = client.post(
        "/w/acme/failures/bulk", {"runs": [r.id for r in runs], "action": "rerun"}, follow=True
    )
    assert "Started 2 rerun(s)" in response.content.decode()
    reruns = Run.objects.filter(rerun_of__in=runs)
    assert reruns.count() == 2
    assert set(reruns.values_list("rerun_from", flat=True)) == {"failed"}


def test_resolve_keeps_the_note_and_leaves_the_inbox(client, alice, workspace):
    client.force_login(alice)
    run = compensated_run(workspace)
    client.post("/w/acme/failures/bulk", {"runs": run.id, "action": "resolve", "note": "refunded"})
    run.refresh_from_db()
    assert run.resolved_at is not None and run.resolution_note == "refunded"
    assert ids_on(client.get("/w/acme/failures/").content.decode()) == []
    assert ids_on(client.get("/w/acme/failures/?state=resolved").content.decode()) == [run.id]
