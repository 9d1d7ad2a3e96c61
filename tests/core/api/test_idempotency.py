"""`Idempotency-Key`: one run per key and request, even for concurrent duplicates."""

import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from core.api import launch
from core.api.schemas import RunIn
from core.models import ActionVersion, IdempotencyKey
from runner import action_runs
from runner.models import Run
from runner.states import RunStatus
from tests.api import error_of

ECHO = "/actions/debug.echo/run"


@pytest.mark.django_db
def test_same_key_same_body_gives_the_same_run_with_200(api):
    headers = {"Idempotency-Key": "order-1"}
    first = api.post(ECHO, {"input": {"n": 1}}, headers=headers)
    second = api.post(ECHO, {"input": {"n": 1}, "wait": 0}, headers=headers)  # wait ignored
    # Whitespace and key order are not part of "the same body" either
    third = api.post(ECHO, raw='{ "input" : {"n":1} }', headers=headers)
    assert first.status_code == 202
    assert (second.status_code, third.status_code) == (200, 200)
    assert first.json()["id"] == second.json()["id"] == third.json()["id"]
    assert Run.objects.count() == 1


@pytest.mark.django_db
def test_same_key_another_body_or_endpoint_is_409(api):
    headers = {"Idempotency-Key": "order-2"}
    assert api.post(ECHO, {"input": {"n": 1}}, headers=headers).status_code == 202
    other_body = api.post(ECHO, {"input": {"n": 2}}, headers=headers)
    other_path = api.post("/actions/debug.fail/run", {"input": {"n": 1}}, headers=headers)
    for response in (other_body, other_path):
        assert response.status_code == 409
        assert error_of(response)["code"] == "idempotency_conflict"
    assert Run.objects.count() == 1


@pytest.mark.django_db
def test_a_failed_request_keeps_no_key(api):
    headers = {"Idempotency-Key": "order-3"}
    assert api.post("/actions/email.send/run", {"input": {}}, headers=headers).status_code == 422
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_an_expired_key_starts_a_new_run(api):
    headers = {"Idempotency-Key": "order-4"}
    first = api.post(ECHO, {"input": {"n": 1}}, headers=headers).json()["id"]
    IdempotencyKey.objects.update(
        created_at=IdempotencyKey.objects.get().created_at - timedelta(hours=25)
    )
    second = api.post(ECHO, {"input": {"n": 2}}, headers=headers)
    assert second.status_code == 202 and second.json()["id"] != first


@pytest.mark.django_db
def test_keys_are_per_workspace_and_checked(api, client, other_workspace):
    from core.models import ApiKey
    from tests.api import Api

    other = Api(client, ApiKey.issue(other_workspace, "b")[1])
    headers = {"Idempotency-Key": "shared"}
    mine = api.post(ECHO, {"input": {}}, headers=headers).json()["id"]
    theirs = other.post(ECHO, {"input": {}}, headers=headers).json()["id"]
    assert mine != theirs
    bad = api.post(ECHO, {"input": {}}, headers={"Idempotency-Key": "x" * 256})
    assert bad.status_code == 422 and "Idempotency-Key" in error_of(bad)["fields"]


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_with_one_key_make_one_run(live_server, api_key, worker):
    # Given 20 clients ready to send the same request with the same key at once, and a
    # worker that may end the run before its maker answers (the 200-only failure)
    url = f"{live_server.url}/api/v1{ECHO}"
    body = json.dumps({"input": {"order": 42}}).encode()
    barrier = threading.Barrier(20)

    def post(_):
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("Authorization", f"Bearer {api_key}")
        request.add_header("Content-Type", "application/json")
        request.add_header("Idempotency-Key", "concurrent-1")
        barrier.wait(timeout=10)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())["id"]

    # When they all post
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(post, range(20)))
    # Then exactly one run exists, every answer names it, and only one answer made it
    assert Run.objects.count() == 1
    assert {run_id for _, run_id in answers} == {Run.objects.get().id}
    assert sorted(status for status, _ in answers) == [200] * 19 + [202]


@pytest.mark.django_db
def test_an_empty_body_is_the_same_request_as_an_empty_object(api):
    headers = {"Idempotency-Key": "empty-1"}
    first = api.post(ECHO, raw="", headers=headers)
    second = api.post(ECHO, {"input": {}}, headers=headers)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["id"] == second.json()["id"]


@pytest.mark.django_db
def test_expired_keys_are_purged_a_batch_at_a_time(api, django_assert_num_queries):
    # Given five keys, the three oldest of them past their TTL
    for n in range(5):
        api.post(ECHO, {"input": {"n": n}}, headers={"Idempotency-Key": f"k{n}"})
    ids = sorted(IdempotencyKey.objects.values_list("id", flat=True))
    expired = timezone.now() - IdempotencyKey.TTL - timedelta(minutes=1)
    IdempotencyKey.objects.filter(id__in=ids[:3]).update(created_at=expired)
    # When the sweeper purges two at a time
    assert IdempotencyKey.purge_expired(batch=2) == 2
    assert IdempotencyKey.purge_expired(batch=2) == 1
    # Then the live keys stay, and so do the runs the purged keys pointed at
    assert sorted(IdempotencyKey.objects.values_list("id", flat=True)) == ids[3:]
    assert Run.objects.count() == 5
    # And a pass with nothing to purge is one indexed read
    with django_assert_num_queries(1):
        assert IdempotencyKey.purge_expired() == 0


@pytest.mark.django_db(transaction=True)
def test_the_request_that_made_a_run_answers_202_though_a_worker_already_ended_it(
    worker, workspace, rf
):
    # Given a start that hands back its run only once the worker has ended it
    # (what a fast worker does to a busy web process between commit and answer)
    version = ActionVersion.objects.get(action__name="debug.echo", action__workspace=None)

    def start_and_let_it_end():
        run = action_runs.start(version, {"n": 1}, workspace=workspace)
        assert launch.wait_for_end(run.id, 20) == RunStatus.SUCCEEDED
        return run

    request = rf.post(f"/api/v1{ECHO}")
    request.workspace = workspace
    # When the request that made it answers, without `wait` and then with one
    without_wait, _ = launch.launch(request, RunIn(input={"n": 1}), None, start_and_let_it_end)
    with_wait, _ = launch.launch(request, RunIn(wait=1), None, start_and_let_it_end)
    # Then "accepted" without `wait`; "done" only for the request that asked to wait
    assert (without_wait, with_wait) == (202, 200)
