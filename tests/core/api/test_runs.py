"""`/api/v1/runs`: list with filters and a cursor, read one, rerun, cancel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runner.models import Run
from tests.api import error_of
from tests.runs import start, wait_for

ECHO = [{"key": "a", "action": "debug.echo"}]


@pytest.mark.django_db
def test_list_filters_and_pages_with_a_cursor(api, workspace, echo_workflow):
    # Given three action runs and two workflow runs, one of them cancelled
    plain = [start(workspace, ECHO) for _ in range(3)]
    version = echo_workflow.latest_version()
    flows = [
        start(workspace, version.definition["steps"], {"n": 1}, workflow=echo_workflow)
        for _ in range(2)
    ]
    Run.objects.filter(id=flows[0].id).update(status="cancelled")
    Run.objects.filter(id=plain[0].id).update(created_at=timezone.now() - timedelta(days=2))
    # Then pages of two come newest first, and the cursor walks to the end
    seen, cursor = [], None
    for _ in range(5):
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(f"/runs{query}").json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted([r.id for r in plain + flows], reverse=True)
    # And the filters narrow it
    ids = lambda query: [item["id"] for item in api.get(f"/runs?{query}").json()["items"]]  # noqa: E731
    assert ids("workflow=echo") == [flows[1].id, flows[0].id]
    assert ids("status=cancelled") == [flows[0].id]
    assert ids("workflow=echo&status=queued") == [flows[1].id]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert plain[0].id not in ids(f"since={since.replace('+', '%2B')}")
    assert len(ids("since=2000-01-01T00:00:00")) == 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "status=nope", "cursor=abc", "limit=0", "limit=101", "since=yesterday", "workflow=a%20b",
        "stauts=failed", "cursor=0&=null",
    ],
)  # fmt: skip
def test_bad_list_queries_are_422(api, query):
    response = api.get(f"/runs?{query}")
    assert response.status_code == 422
    assert error_of(response)["fields"]


@pytest.mark.django_db
def test_missing_runs_are_404(api):
    for path in ("/runs/0", "/runs/999999", f"/runs/{2**70}"):
        assert api.get(path).status_code == 404
    assert api.get("/runs/abc").status_code == 422


@pytest.mark.django_db
def test_cancel_a_queued_run_then_again_is_409(api, workspace):
    run = start(workspace, ECHO)
    response = api.post(f"/runs/{run.id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    again = api.post(f"/runs/{run.id}/cancel")
    assert again.status_code == 409
    assert error_of(again)["code"] == "invalid_transition"


@pytest.mark.django_db
def test_rerun_from_failed_of_a_queued_run_is_409(api, workspace):
    run = start(workspace, ECHO)
    response = api.post(f"/runs/{run.id}/rerun", {"from": "failed"})
    assert response.status_code == 409
    bad = api.post(f"/runs/{run.id}/rerun", {"from": "middle"})
    assert bad.status_code == 422 and "from" in error_of(bad)["fields"]


@pytest.mark.django_db(transaction=True)
def test_rerun_of_a_failed_action_run_with_a_new_input(api, worker):
    # Given an action run that fails for good
    first = api.post("/actions/debug.fail/run", {"input": {"retryable": False}, "wait": 20}).json()
    assert first["status"] == "failed"
    # When it is rerun from the failed step with another input (other fields)
    response = api.post(
        f"/runs/{first['id']}/rerun",
        {"from": "failed", "input": {"fail_times": 0, "message": "x"}, "wait": 20},
    )
    # Then the new run takes the new input, and links to the first
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "succeeded" and body["rerun_of"] == first["id"]
    assert body["input"] == {"fail_times": 0, "message": "x"}
    assert body["output"] == {"succeeded_on_attempt": 1}
    # And a new input that does not fit the action's schema is a 422, with no run
    count = Run.objects.count()
    bad = api.post(f"/runs/{first['id']}/rerun", {"input": {"fail_times": "x"}})
    assert bad.status_code == 422 and "input.fail_times" in error_of(bad)["fields"]
    assert Run.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_rerun_of_a_workflow_run_on_the_latest_version(api, worker, echo_workflow):
    first = api.post("/workflows/echo/runs", {"input": {"n": 1}, "wait": 20}).json()
    assert first["output"] == {"m": 1}
    api.put(
        "/workflows/echo?publish=1",
        {"steps": [{"key": "only", "action": "debug.echo", "input": {"v": "{{ input.n }}"}}]},
    )
    response = api.post(f"/runs/{first['id']}/rerun", {"version": "latest", "wait": 20})
    assert response.status_code == 200
    assert response.json()["workflow_version"] == 2
    assert response.json()["output"] == {"v": 1}
    detail = api.get(f"/runs/{response.json()['id']}").json()
    assert [step["key"] for step in detail["steps"]] == ["only"]
    assert wait_for(Run.objects.get(id=first["id"])).status == "succeeded"


@pytest.mark.django_db
def test_an_empty_body_reruns_from_the_start_on_the_pinned_version(api, workspace):
    run = start(workspace, ECHO, {"n": 1})
    Run.objects.filter(id=run.id).update(status="failed")
    response = api.post(f"/runs/{run.id}/rerun", raw="")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["rerun_of"] == run.id and body["input"] == {"n": 1}
    assert Run.objects.get(id=body["id"]).rerun_from == "start"


@pytest.mark.django_db
def test_secret_values_are_masked_in_run_answers(api, workspace):
    from core.models import Secret

    Secret.set(workspace, "TOKEN", "tok_live_abcdef")
    started = api.post("/actions/debug.echo/run", {"input": {"leak": "x tok_live_abcdef y"}})
    assert started.status_code == 202
    assert "tok_live_abcdef" not in started.content.decode()
    run_id = started.json()["id"]
    for path in (f"/runs/{run_id}", "/runs"):
        body = api.get(path).content.decode()
        assert "tok_live_abcdef" not in body and "x *** y" in body
