"""The run page and its live timeline: constant queries at 1,000 attempts, a cursor that
returns only what changed, and polling that stops when the run ends."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runner.models import Attempt
from tests.runs import start
from tests.web import big_run, compensated_run

pytestmark = pytest.mark.django_db


def queries_for(client, url):
    client.get("/w/acme/")  # the first page of a workspace also saves it in the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code in (200, 286), response.status_code
    return len(captured), response


def test_run_page_queries_do_not_grow_with_attempts(client, workspace, alice):
    client.force_login(alice)
    small = compensated_run(workspace)
    big = big_run(workspace)
    small_count, _ = queries_for(client, f"/w/acme/runs/{small.id}/")
    started = time.monotonic()
    big_count, response = queries_for(client, f"/w/acme/runs/{big.id}/")
    elapsed = time.monotonic() - started
    assert big_count == small_count <= 16
    html = response.content.decode()
    assert html.count('class="tl-attempt"') == 1000
    assert "Show 93 more attempts" in html  # long steps fold their middle attempts
    assert elapsed < 5, elapsed


def test_a_run_of_1000_attempts_takes_a_handful_of_queries(
    client, workspace, alice, django_assert_max_num_queries
):
    client.force_login(alice)
    run = big_run(workspace)
    with django_assert_max_num_queries(16):
        client.get(f"/w/acme/runs/{run.id}/")
    with django_assert_max_num_queries(16):
        client.get(f"/w/acme/runs/{run.id}/timeline?after=0")


def test_timeline_poll_queries_do_not_grow_with_attempts(client, workspace, alice):
    client.force_login(alice)
    small = compensated_run(workspace)
    big = big_run(workspace)
    small_count, _ = queries_for(client, f"/w/acme/runs/{small.id}/timeline?after=0")
    big_count, _ = queries_for(client, f"/w/acme/runs/{big.id}/timeline?after=0")
    assert big_count == small_count <= 16


def test_failures_only_filter(client, workspace, alice):
    client.force_login(alice)
    run = compensated_run(workspace)
    html = client.get(f"/w/acme/runs/{run.id}/?only=failures").content.decode()
    # `charge` and its three failed attempts show; the succeeded steps are empty slots
    assert html.count('data-status="failed"') == 3
    assert 'id="step-action-greet" class="tl-step action" style="order: 0" hidden' in html
    assert "debug.echo@1" not in html


def test_poll_returns_only_steps_touched_after_the_cursor(client, workspace, alice):
    from runner import executor

    client.force_login(alice)
    # Given a run of two independent steps where `one` already succeeded
    run = start(
        workspace,
        [
            {"key": "one", "action": "debug.echo", "input": {}},
            {"key": "two", "action": "debug.echo", "input": {}, "after": []},
        ],
    )
    executor.execute_attempt(Attempt.objects.get(run=run, step_run__key="one").id, "test")
    cursor = run.events.order_by("-id").first().id
    response = client.get(f"/w/acme/runs/{run.id}/timeline?after={cursor}", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    # Then a poll after that sends the header and `two` (still running), not `one`
    assert response.status_code == 200
    assert 'id="step-action-two"' in html
    assert 'id="step-action-one"' not in html
    assert 'id="run-head"' in html and 'hx-swap-oob="true"' in html
    assert f"after={cursor}" in html and "hx-trigger" in html
    # When `two` succeeds, the next poll sends it, says the run is over and stops polling
    executor.execute_attempt(Attempt.objects.get(run=run, step_run__key="two").id, "test")
    response = client.get(f"/w/acme/runs/{run.id}/timeline?after={cursor}", HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    html = response.content.decode()
    assert 'id="step-action-two"' in html and 'id="step-action-one"' not in html
    assert "data-finished" in html and "hx-trigger" not in html
    assert 'data-status="succeeded">succeeded' in html


def test_running_steps_are_resent_even_without_new_events(client, workspace, alice):
    client.force_login(alice)
    run = start(workspace, [{"key": "slow", "action": "debug.echo", "input": {}}])
    cursor = run.events.order_by("-id").first().id
    html = client.get(f"/w/acme/runs/{run.id}/timeline?after={cursor}").content.decode()
    assert 'id="step-action-slow"' in html  # running: re-sent, so a late event cannot hide


def test_secrets_stay_unrendered_on_the_run_page(client, workspace, alice):
    from core.models import Secret

    client.force_login(alice)
    Secret.objects.create(workspace=workspace, name="TOKEN", value="s3cr3t-value")
    run = start(
        workspace,
        [{"key": "call", "action": "debug.echo", "input": {"auth": "{{ secrets.TOKEN }}"}}],
    )
    from tests.drive import drive

    drive(run)
    html = client.get(f"/w/acme/runs/{run.id}/").content.decode()
    assert "{{ secrets.TOKEN }}" in html
    assert "s3cr3t-value" not in html
