"""The failures inbox through the API: list, resolve with a note, reopen."""

import pytest

from core.models import ApiKey
from runner.models import Run
from tests.api import Api, error_of

pytestmark = pytest.mark.django_db


def failed(workspace, message="card declined", **extra):
    return Run.objects.create(
        workspace=workspace,
        definition={"name": "Checkout", "steps": []},
        status="failed",
        error={"step": "charge", "message": message},
        **extra,
    )


def ids(page):
    return [item["id"] for item in page.json()["items"]]


def test_resolve_with_a_note_then_reopen(api, workspace):
    # Given two failures, a flagged run and a run that succeeded
    first, second = failed(workspace), failed(workspace, "timeout")
    flagged = Run.objects.create(
        workspace=workspace, definition={}, status="succeeded", needs_review=True
    )
    Run.objects.create(workspace=workspace, definition={}, status="succeeded")
    assert ids(api.get("/failures")) == [flagged.id, second.id, first.id]
    assert ids(api.get("/failures?kind=review")) == [flagged.id]
    assert ids(api.get("/failures?error=timeout")) == [second.id]
    # When two are resolved
    resolved = api.post("/failures/resolve", {"runs": [first.id, second.id], "note": "refunded"})
    assert resolved.status_code == 200, resolved.content
    assert {item["resolution_note"] for item in resolved.json()["items"]} == {"refunded"}
    # Then they leave the inbox, into the resolved list
    assert ids(api.get("/failures")) == [flagged.id]
    assert ids(api.get("/failures?state=resolved")) == [second.id, first.id]
    # And reopened, one is back without its note
    reopened = api.post("/failures/reopen", {"runs": [first.id]}).json()["items"]
    assert reopened[0]["resolved_at"] is None and reopened[0]["resolution_note"] == ""
    assert ids(api.get("/failures")) == [flagged.id, first.id]


def test_resolve_needs_a_note(api, workspace):
    run = failed(workspace)
    response = api.post("/failures/resolve", {"runs": [run.id], "note": "   "})
    assert response.status_code == 422 and "note" in error_of(response)["fields"]


def test_runs_that_are_not_failures_here_are_not_found_and_nothing_changes(
    api, workspace, other_workspace
):
    mine, theirs = failed(workspace), failed(other_workspace)
    fine = Run.objects.create(workspace=workspace, definition={}, status="succeeded")
    for runs in ([mine.id, theirs.id], [mine.id, fine.id], [mine.id, 2**70]):
        response = api.post("/failures/resolve", {"runs": runs, "note": "done"})
        assert response.status_code in (404, 422), runs
    assert not Run.objects.filter(resolved_at__isnull=False).exists()
    theirs_key = Api(api.client, ApiKey.issue(other_workspace, "theirs")[1])
    assert ids(theirs_key.get("/failures")) == [theirs.id]


def test_pages_of_failures(api, workspace):
    runs = [failed(workspace) for _ in range(3)]
    first = api.get("/failures?limit=2").json()
    rest = api.get(f"/failures?limit=2&cursor={first['next_cursor']}").json()
    assert [r["id"] for r in first["items"] + rest["items"]] == [r.id for r in reversed(runs)]
    assert rest["next_cursor"] is None
