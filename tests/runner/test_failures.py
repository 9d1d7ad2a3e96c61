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


def failed_runs(workspace, message, count):
    """`count` runs that failed at step `charge` with `message`, written directly."""
    return Run.objects.bulk_create(
        Run(
            workspace=workspace,
            definition={"name": "Checkout", "steps": []},
            status="failed",
            error={"step": "charge", "message": message},
        )
        for _ in range(count)
    )


def test_show_runs_of_a_group_works_for_a_message_of_any_length(client, alice, workspace):
    # Given failures with a 600-character message and with a short one
    client.force_login(alice)
    long = failed_runs(workspace, "x" * 600, 2)
    failed_runs(workspace, "card declined", 1)
    # When "Show runs" of the long message's group is followed
    html = client.get("/w/acme/failures/?group=error").content.decode()
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="(\?[^"]*like=\d+)"', html)]
    [link] = [link for link in links if f"like={long[-1].id}" in link]
    response = client.get(f"/w/acme/failures/{link}")
    # Then it lists that group's runs, and says which filter is on
    assert response.status_code == 200
    page = response.content.decode()
    assert sorted(ids_on(page)) == sorted(run.id for run in long)
    assert 'id="like-filter"' in page and "x" * 600 in page


def test_show_runs_of_another_workspaces_run_is_refused(client, alice, workspace, other_workspace):
    client.force_login(alice)
    [theirs] = failed_runs(other_workspace, "boom", 1)
    response = client.get(f"/w/acme/failures/?like={theirs.id}")
    assert response.status_code == 400
    assert "boom" not in response.content.decode()


def test_show_runs_of_a_group_without_a_step(client, alice, workspace):
    # Cancelled-then-flagged runs carry a message and no step: their group lists them too
    client.force_login(alice)
    [run] = Run.objects.bulk_create(
        [
            Run(
                workspace=workspace,
                definition={"name": "Checkout", "steps": []},
                status="failed",
                error={"message": "cancelled by alice"},
            )
        ]
    )
    failed_runs(workspace, "cancelled by alice", 1)  # the same message at a step: another group
    html = client.get(f"/w/acme/failures/?like={run.id}").content.decode()
    assert ids_on(html) == [run.id]
