"""Waits in the browser's pages: the run page's countdown and Approve / Reject (for the
roles that may), the "Waiting for me" page and its sidebar count, and the decision with
who, when and why in the timeline."""

import pytest

from tests.runs import start

pytestmark = pytest.mark.django_db

APPROVAL = [
    {"key": "review", "type": "approval", "role": "owner", "timeout_s": 3600},
    {"key": "ship", "action": "debug.echo"},
]


def test_an_owner_sees_approve_and_reject_with_a_countdown(client, workspace, alice):
    run = start(workspace, APPROVAL)
    client.force_login(alice)
    page = client.get(f"/w/acme/runs/{run.id}/").content.decode()
    assert 'data-step-status="waiting"' in page
    assert "data-countdown" in page and "Times out in" in page
    assert 'value="approve"' in page and 'value="reject"' in page
    assert "waiting for approval by an owner or above" in page


def test_the_waiting_page_lists_what_the_member_may_decide(client, workspace, alice, erin):
    run = start(workspace, APPROVAL)
    start(workspace, [{"key": "pause", "type": "sleep", "for_s": 60}])  # no decision
    client.force_login(alice)
    page = client.get("/w/acme/waiting/").content.decode()
    assert f"waiting-{run.id}-review" in page
    assert 'title="1 awaiting your decision"' in page
    client.force_login(erin)  # an editor: the step wants an owner
    page = client.get("/w/acme/waiting/").content.decode()
    assert "Nothing waits for you" in page
    assert "awaiting your decision" not in page
    assert 'value="approve"' not in client.get(f"/w/acme/runs/{run.id}/").content.decode()


def test_deciding_records_who_when_and_why(client, workspace, alice):
    run = start(workspace, APPROVAL)
    client.force_login(alice)
    response = client.post(
        f"/w/acme/runs/{run.id}/decide",
        {"step": "review", "decision": "reject", "comment": "not <b>yet</b>"},
    )
    assert response.status_code == 302
    review = run.steps.get(key="review")
    assert review.output == {"approved": False, "by": "alice", "comment": "not <b>yet</b>"}
    page = client.get(f"/w/acme/runs/{run.id}/").content.decode()
    assert "rejected by alice at " in page and "not &lt;b&gt;yet&lt;/b&gt;" in page
    assert 'value="approve"' not in page
    again = client.post(f"/w/acme/runs/{run.id}/decide", {"step": "review", "decision": "approve"},
                        follow=True)  # fmt: skip
    assert "Nothing of this run waits" in again.content.decode()


def test_a_viewer_has_no_button_and_cannot_decide(client, workspace, bob):
    run = start(workspace, [{"key": "review", "type": "approval"}])
    client.force_login(bob)
    assert 'value="approve"' not in client.get(f"/w/acme/runs/{run.id}/").content.decode()
    response = client.post(
        f"/w/acme/runs/{run.id}/decide", {"step": "review", "decision": "approve"}
    )
    assert response.status_code == 404
    assert run.steps.get(key="review").status == "waiting"
    assert "Nothing waits for you" in client.get("/w/acme/waiting/").content.decode()


def test_another_workspaces_run_is_404(client, workspace, charlie):
    run = start(workspace, [{"key": "review", "type": "approval"}])
    client.force_login(charlie)
    response = client.post(
        f"/w/acme/runs/{run.id}/decide", {"step": "review", "decision": "approve"}
    )
    assert response.status_code == 404
    response = client.post(
        f"/w/globex/runs/{run.id}/decide", {"step": "review", "decision": "approve"}
    )
    assert response.status_code == 404
    assert run.steps.get(key="review").status == "waiting"


def test_the_run_page_decides_in_place(client, workspace, alice):
    """Approve / Reject on the run page post with htmx: only the form is replaced (with the
    sidebar's count), and the page's live poll shows the rest."""
    run = start(workspace, APPROVAL)
    client.force_login(alice)
    response = client.post(
        f"/w/acme/runs/{run.id}/decide",
        {"step": "review", "decision": "approve", "comment": "fine"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="wait-review"' in page and "Step review of run" in page and "approved" in page
    assert 'id="nav-pages" hx-swap-oob="true"' in page
    assert "awaiting your decision" not in page
    assert run.steps.get(key="review").output == {
        "approved": True,
        "by": "alice",
        "comment": "fine",
    }
    again = client.post(
        f"/w/acme/runs/{run.id}/decide",
        {"step": "review", "decision": "approve"},
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 200
    assert "Nothing of this run waits for that decision." in again.content.decode()
    assert "nav-pages" not in again.content.decode()
