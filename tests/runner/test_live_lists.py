"""The live run lists' polls: a cursor over the event log, a 204 when nothing changed (one
indexed read, whatever the history), shown rows replaced in place, new ones inserted only
when the page's filters select them, and the sidebar's inbox count kept current."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.web import live
from runner.models import Run, RunEvent

pytestmark = pytest.mark.django_db


def make_run(workspace, status="succeeded", settled=True, **fields):
    run = Run.objects.create(
        workspace=workspace, definition={"name": "nightly", "steps": []}, status=status, **fields
    )
    event(run, "run.created", status, settled)
    return run


def event(run, type, to_status, settled=True):
    made = RunEvent.objects.create(run=run, type=type, to_status=to_status)
    if settled:  # long enough ago that the cursor may move past it
        RunEvent.objects.filter(id=made.id).update(created_at=timezone.now() - timedelta(minutes=1))
    return made


def change(run, status, settled=True):
    Run.objects.filter(id=run.id).update(status=status)
    return event(run, "run.status", status, settled)


def poll_url(page):
    """The URL the page's poller asks (templates/core/_live_poller.html)."""
    found = re.search(r'hx-get="([^"]+)" hx-trigger="live-poll"', page.content.decode())
    return html.unescape(found.group(1)) if found else None


def poll(client, url, shown=()):
    return client.get(f"{url}&shown={','.join(str(run.id) for run in shown)}")


def inserted(response):
    """The ids of the rows the answer inserts (inside its `afterbegin` tbody)."""
    body = re.search(r'<tbody hx-swap-oob="afterbegin:[^"]+">(.*?)</tbody>', response.text, re.S)
    return [int(n) for n in re.findall(r'data-id="(\d+)"', body.group(1))] if body else []


def replaced(response):
    return [
        int(n) for n in re.findall(r'id="run-row-(\d+)" data-id="\d+" hx-swap-oob', response.text)
    ]


@pytest.fixture
def history(workspace):
    return [make_run(workspace) for _ in range(30)]


def test_a_quiet_poll_answers_204_with_one_read_of_the_log_whatever_the_history(
    client, alice, workspace, history
):
    client.force_login(alice)
    url = poll_url(client.get("/w/acme/runs/"))
    shown = history[-50:]
    poll(client, url, shown)  # the session knows the workspace from here on
    with CaptureQueriesContext(connection) as small:
        assert poll(client, url, shown).status_code == 204
    for _ in range(200):
        make_run(workspace)
    url = poll_url(client.get("/w/acme/runs/"))
    with CaptureQueriesContext(connection) as large:
        assert poll(client, url, shown).status_code == 204
    assert len(small) == len(large) <= 5  # the session, the user, the membership, the log
    reads = [q["sql"] for q in large if "runner_runevent" in q["sql"]]
    assert len(reads) == 1 and "COUNT(" not in reads[0].upper()


def test_new_runs_are_inserted_and_shown_ones_replaced_in_place(client, alice, workspace, history):
    client.force_login(alice)
    running = make_run(workspace, status="running")
    url = poll_url(client.get("/w/acme/runs/"))
    shown = [*history, running]
    new = [make_run(workspace, status="queued") for _ in range(2)]
    change(running, "succeeded")
    answer = poll(client, url, shown)
    assert answer.status_code == 200
    assert inserted(answer) == [new[1].id, new[0].id]  # newest first
    assert replaced(answer) == [running.id]
    assert "s-succeeded" in answer.text.split(f'id="run-row-{running.id}"')[1].split("</tr>")[0]
    assert ">2 new runs<" in answer.text
    # The answer brings the next poller, with the cursor past the events it read
    assert f"cursor={RunEvent.objects.latest('id').id}" in poll_url(answer)


def test_a_busy_poll_costs_the_same_for_one_or_many_changed_runs(client, alice, workspace, history):
    client.force_login(alice)
    url = poll_url(client.get("/w/acme/runs/"))
    poll(client, url, history)
    make_run(workspace)
    change(history[-1], "failed")
    with CaptureQueriesContext(connection) as few:
        poll(client, url, history)
    for run in history[:20]:
        change(run, "failed")
    for _ in range(20):
        make_run(workspace)
    with CaptureQueriesContext(connection) as many:
        poll(client, url, history)
    assert len(few) == len(many)


def test_unsettled_events_are_read_again_and_never_inserted_twice(client, alice, workspace):
    client.force_login(alice)
    url = poll_url(client.get("/w/acme/runs/"))
    run = make_run(workspace, status="queued", settled=False)
    first = poll(client, url)
    assert inserted(first) == [run.id]
    # A transaction that began earlier may still commit an older id: the cursor waits
    assert poll_url(first) == url
    again = poll(client, poll_url(first), [run])
    assert inserted(again) == [] and replaced(again) == [run.id]
    assert "new run" not in again.text


def test_the_cursor_moves_only_past_settled_rows():
    now = timezone.now()
    old, fresh = now - live.SETTLE * 2, now
    assert live.advance(5, [(6, old), (7, old), (8, fresh), (9, old)], now) == 7
    assert live.advance(5, [(6, fresh)], now) == 5
    assert live.advance(5, [], now) == 5


def test_filters_and_search_decide_what_is_inserted(client, alice, workspace):
    client.force_login(alice)
    page = client.get("/w/acme/runs/?status=failed&q=input.customer+%3D+42")
    url = poll_url(page)
    assert "status=failed" in url and "q=input.customer" in url
    make_run(workspace, status="failed", input={"customer": 7})
    make_run(workspace, status="succeeded", input={"customer": 42})
    match = make_run(workspace, status="failed", input={"customer": 42})
    assert inserted(poll(client, url)) == [match.id]


def test_only_the_first_page_polls(client, alice, workspace):
    for _ in range(60):
        make_run(workspace)
    client.force_login(alice)
    first = client.get("/w/acme/runs/")
    older = re.search(r"before=(\d+)", first.content.decode()).group(1)
    assert poll_url(first) is not None
    assert poll_url(client.get(f"/w/acme/runs/?before={older}")) is None
    assert poll_url(client.get("/w/acme/runs/?status=nonsense")) is None
    # A full first page: a run older than its last row changed, it is the next page's
    shown = list(Run.objects.order_by("-id")[:50])
    change(Run.objects.order_by("id").first(), "failed")
    answer = poll(client, poll_url(first), shown)
    assert answer.status_code == 204 or inserted(answer) == []


def test_a_hand_made_poll_is_refused_and_another_workspace_is_not_found(
    client, alice, charlie, workspace
):
    client.force_login(alice)
    for bad in ("cursor=x", "cursor=-1", "", "cursor=1&shown=1,two", "cursor=" + "9" * 30):
        answer = client.get(f"/w/acme/runs/live?{bad}")
        assert answer.status_code == 400 and answer["Content-Type"].startswith("text/plain")
    make_run(workspace, status="failed")  # a quiet poll reads the log only, not the filters
    assert client.get("/w/acme/runs/live?cursor=0&status=nonsense").status_code == 400
    assert client.get("/w/acme/failures/live?cursor=0&kind=nonsense").status_code == 400
    client.force_login(charlie)
    for path in ("/w/acme/runs/live?cursor=0", "/w/acme/failures/live?cursor=0"):
        assert client.get(path).status_code == 404


def test_another_workspaces_runs_never_reach_the_poll(client, alice, workspace, other_workspace):
    client.force_login(alice)
    url = poll_url(client.get("/w/acme/runs/"))
    make_run(other_workspace, status="failed")
    # The cursor moves past the other workspace's events: nothing else is answered
    moved = poll(client, url)
    assert moved.status_code == 200
    assert poll_url(moved).endswith(f"cursor={RunEvent.objects.latest('id').id}")
    assert "<tr" not in moved.text and "nav-pages" not in moved.text
    assert poll(client, poll_url(moved)).status_code == 204


def test_the_inbox_inserts_a_new_failure_and_updates_the_sidebar_count(
    client, alice, workspace, history
):
    client.force_login(alice)
    page = client.get("/w/acme/failures/")
    url = poll_url(page)
    running = make_run(workspace, status="running")
    assert inserted(poll(client, url)) == []  # a running run is no failure
    change(running, "failed")
    answer = poll(client, url)
    assert inserted(answer) == [running.id]
    assert ">1 new failure<" in answer.text
    nav = re.search(
        r'<ul class="nav" id="nav-pages" hx-swap-oob="true">.*?</ul>', answer.text, re.S
    )
    inbox = re.search(r'<li><a href="/w/acme/failures/".*?</li>', nav.group(0), re.S).group(0)
    assert '<span class="count" title="1 unresolved">1</span>' in inbox
    assert 'aria-current="page"' in inbox


def test_the_grouped_inbox_is_redrawn_only_when_a_failure_changed(client, alice, workspace):
    client.force_login(alice)
    error = {"step": "charge", "message": "card declined"}
    make_run(workspace, status="failed", error=error)
    url = poll_url(client.get("/w/acme/failures/?group=error"))
    assert "group=error" in url
    make_run(workspace, status="succeeded")
    quiet = poll(client, url)
    assert 'id="failure-groups"' not in quiet.text
    make_run(workspace, status="failed", error=error)
    answer = poll(client, url)
    groups = re.search(
        r'<tbody id="failure-groups" hx-swap-oob="innerHTML">(.*?)</tbody>', answer.text, re.S
    )
    assert "card declined" in groups.group(1) and '<td class="num">2</td>' in groups.group(1)
