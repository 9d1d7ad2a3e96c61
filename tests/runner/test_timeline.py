"""The run page and its live timeline: constant queries at 1,000 attempts, a cursor that
returns only what changed, and polling that stops when the run ends."""

import time
from html import unescape as html_unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runner import launch
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
    with django_assert_max_num_queries(17):  # the sidebar's two counts among them
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
    html = html[html.index('id="timeline"') :]  # the graph above it shows every step
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
    executor.execute_attempt(
        Attempt.objects.get(run=run, step_run__key="one").id, "test", send=launch.send
    )
    cursor = run.events.order_by("-id").first().id
    response = client.get(f"/w/acme/runs/{run.id}/timeline?after={cursor}", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    # Then a poll after that sends the header and `two` (still running), not `one`
    assert response.status_code == 200
    assert 'id="step-action-two"' in html
    assert 'id="step-action-one"' not in html
    assert 'id="run-head"' in html and 'hx-swap-oob="true"' in html
    assert f"after={cursor}" in html and 'hx-trigger="every 1s"' in html
    # When `two` succeeds, the next poll sends it, says the run is over and stops polling
    executor.execute_attempt(
        Attempt.objects.get(run=run, step_run__key="two").id, "test", send=launch.send
    )
    response = client.get(f"/w/acme/runs/{run.id}/timeline?after={cursor}", HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    html = response.content.decode()
    assert 'id="step-action-two"' in html and 'id="step-action-one"' not in html
    assert "data-finished" in html and 'hx-trigger="every' not in html
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
    page, step, attempt = details_of(client, run, "call")
    assert "{{ secrets.TOKEN }}" in step  # the step's input, as recorded
    for html in (page, step, attempt):
        assert "s3cr3t-value" not in html


def details_of(client, run, key, number=1):
    """(the run page, the step's details, its attempt's details) as a person opens them."""
    base = f"/w/acme/runs/{run.id}"
    step = run.steps.get(key=key, kind="action")
    attempt = step.attempts.get(number=number)
    page = client.get(f"{base}/").content.decode()
    assert f'hx-get="{base}/step?id={step.id}"' in page
    assert f'hx-get="{base}/attempt?id={attempt.id}"' in page
    return (
        page,
        client.get(f"{base}/step?id={step.id}").content.decode(),
        client.get(f"{base}/attempt?id={attempt.id}").content.decode(),
    )


def test_details_of_a_row_load_when_it_is_opened(client, workspace, alice):
    client.force_login(alice)
    run = compensated_run(workspace)
    # The page carries each attempt's error line, not its traceback or the step's input
    page, step, attempt = details_of(client, run, "charge", number=2)
    assert "ActionError: debug.fail failed attempt 2 on purpose" in page
    assert "Traceback" not in page and '"fail_times"' not in page
    # Opened, the step shows its input and the attempt its traceback and times
    assert "<h4>Input</h4>" in step and "&quot;fail_times&quot;: -1" in step
    assert '<pre class="trace">Traceback' in attempt
    assert "debug.fail failed attempt 2 on purpose" in attempt
    assert "<dt>Started</dt>" in attempt


def test_an_action_output_that_holds_a_secret_is_masked_when_opened(client, workspace, alice):
    from core.models import Secret
    from tests.drive import drive

    client.force_login(alice)
    # Given an output recorded before its value became a secret (as a reflecting API may)
    run = drive(
        start(workspace, [{"key": "call", "action": "debug.echo", "input": {"t": "hunter22"}}])
    )
    Secret.objects.create(workspace=workspace, name="TOKEN", value="hunter22")
    # Then neither the page nor the details of the step or the attempt show it
    for html in details_of(client, run, "call"):
        assert "hunter22" not in html
    assert '"t": "***"' in html_unescape(details_of(client, run, "call")[2])


def test_a_run_input_that_holds_a_secret_is_masked_on_the_run_and_rerun_pages(
    client, workspace, alice
):
    from core.models import Secret
    from tests.drive import drive

    client.force_login(alice)
    # Given a run whose input carries a value that is (or became) a secret
    Secret.objects.create(workspace=workspace, name="TOKEN", value="hunter22")
    steps = [{"key": "call", "action": "debug.echo", "input": {"t": "{{ input.t }}"}}]
    run = drive(start(workspace, steps, input={"t": "hunter22"}))
    # Then the run page and its live update do not show it (the input loads when its pane
    # is opened), and that pane and the rerun form show it masked
    for path in ("", "timeline?after=0", "io", "rerun"):
        html = client.get(f"/w/acme/runs/{run.id}/{path}").content.decode()
        assert "hunter22" not in html, path
        if path in ("io", "rerun"):
            assert '"t": "***"' in html_unescape(html), path


def test_details_of_rows_are_not_found_from_elsewhere(
    client, workspace, other_workspace, alice, charlie
):
    run = compensated_run(workspace)
    other = compensated_run(other_workspace)
    step = run.steps.get(key="charge", kind="action")
    attempt = step.attempts.get(number=1)
    # A stranger to Acme finds nothing, through Acme's URL or through their own workspace
    client.force_login(charlie)
    for url in (
        f"/w/acme/runs/{run.id}/attempt?id={attempt.id}",
        f"/w/acme/runs/{run.id}/step?id={step.id}",
        f"/w/acme/runs/{run.id}/io",
        f"/w/globex/runs/{run.id}/io",
        f"/w/globex/runs/{run.id}/attempt?id={attempt.id}",
        f"/w/globex/runs/{other.id}/attempt?id={attempt.id}",
        f"/w/globex/runs/{other.id}/step?id={step.id}",
    ):
        assert client.get(url).status_code == 404, url
    # A member asking for a row through another run, or for no row at all, finds nothing
    client.force_login(alice)
    second = compensated_run(workspace)
    for url in (
        f"/w/acme/runs/{second.id}/attempt?id={attempt.id}",
        f"/w/acme/runs/{second.id}/step?id={step.id}",
        f"/w/acme/runs/{run.id}/attempt",
        f"/w/acme/runs/{run.id}/attempt?id=abc",
        f"/w/acme/runs/{run.id}/attempt?id={2**70}",
        f"/w/acme/runs/{run.id}/step?id=-1",
    ):
        assert client.get(url).status_code == 404, url


def test_the_timeline_poll_does_not_count_the_failures_inbox(client, workspace, alice):
    # Given a failed run in the inbox
    client.force_login(alice)
    run = compensated_run(workspace)
    client.get("/w/acme/")
    # When the run page polls its timeline (an htmx partial, every second)
    with CaptureQueriesContext(connection) as captured:
        client.get(f"/w/acme/runs/{run.id}/timeline?after=0", HTTP_HX_REQUEST="true")
    # Then no statement counts the inbox for a sidebar the partial does not draw
    assert not [q for q in captured if "needs_review" in q["sql"] and "COUNT" in q["sql"]]
    # While the full page still shows the count in the sidebar
    with CaptureQueriesContext(connection) as captured:
        client.get(f"/w/acme/runs/{run.id}/")
    assert [q for q in captured if "needs_review" in q["sql"] and "COUNT" in q["sql"]]
