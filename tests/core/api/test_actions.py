"""`/api/v1/actions`: the catalogue, and one action run as a managed service."""

import pytest

from runner.models import Run
from tests.api import error_of
from tests.runs import wait_for


@pytest.mark.django_db
def test_catalogue_lists_builtins_with_their_schema(api):
    response = api.get("/actions")
    assert response.status_code == 200
    by_name = {action["name"]: action for action in response.json()}
    assert {"email.send", "http.request", "debug.echo"} <= by_name.keys()
    email = by_name["email.send"]
    assert email["builtin"] and email["kind"] == "python" and email["version"] >= 1
    assert email["input_schema"]["required"] == ["to", "subject", "body"]


@pytest.mark.django_db
def test_input_is_checked_against_the_schema_before_any_run(api):
    response = api.post("/actions/email.send/run", {"input": {"to": 3, "subject": "Hi"}})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert "input.body" in error["fields"] and "input.to" in error["fields"]
    assert not Run.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,field",
    [
        ({"input": {"n": 1}, "wait": 31}, "wait"),
        ({"input": {"n": 1}, "inputs": {}}, "inputs"),
        ({"input": [1, 2]}, "input"),
        ({"input": {"n": 1}, "version": 99}, "version"),
    ],
)
def test_bad_requests_are_422_with_the_field(api, body, field):
    response = api.post("/actions/debug.echo/run", body)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_any_field_name_and_any_text_reach_the_action(api):
    odd = {"a.b": 1, "text": "{{ secrets.TOKEN }}"}
    response = api.post("/actions/debug.echo/run", {"input": odd})
    assert response.status_code == 202, response.content
    assert Run.objects.get().input == odd


@pytest.mark.django_db
def test_unknown_action_is_404(api):
    for name in ("nope.nothing", "Bad Name", "a" * 200):
        response = api.post(f"/actions/{name}/run", {"input": {}})
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


@pytest.mark.django_db
def test_a_run_starts_as_a_one_step_run_answered_202(api):
    response = api.post("/actions/debug.echo/run", {"input": {"n": 1}})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["action"] == "debug.echo"
    assert body["trigger"] == "api" and body["input"] == {"n": 1}
    run = Run.objects.get(id=body["id"])
    assert [spec["action"] for spec in run.definition["steps"]] == ["debug.echo@1"]


@pytest.mark.django_db(transaction=True)
def test_wait_answers_200_with_the_output_and_text_with_braces_is_kept(api, worker):
    # Given an input whose text looks like a reference
    value = {"text": "Hello {{ input.name }}", "nested": {"list": [1, "{{ run.id }}"]}, "n": None}
    # When it runs with wait
    response = api.post("/actions/debug.echo/run", {"input": value, "wait": 20})
    # Then the answer comes at the end, with exactly the input as output
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["output"] == value


@pytest.mark.django_db(transaction=True)
def test_wait_that_runs_out_answers_202(api, worker):
    response = api.post("/actions/debug.sleep/run", {"input": {"ms": 1500}, "wait": 0.2})
    assert response.status_code == 202
    assert response.json()["status"] in ("queued", "running")
    assert wait_for(Run.objects.get(id=response.json()["id"])).status == "succeeded"


@pytest.mark.django_db
def test_an_empty_body_runs_the_action_with_an_empty_input(api, client, api_key):
    # Given a POST with no body at all, with and without a JSON Content-Type
    with_type = api.post("/actions/debug.echo/run", raw="")
    without = client.generic(
        "POST",
        "/api/v1/actions/debug.echo/run",
        b"",
        headers={"Authorization": f"Bearer {api_key}"},
    )
    # Then each is a run of `{"input": {}}`, not a 422 about a missing body
    for response in (with_type, without):
        assert response.status_code == 202, response.content
        assert response.json()["input"] == {}
    assert Run.objects.count() == 2
