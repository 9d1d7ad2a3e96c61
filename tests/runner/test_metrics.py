"""`GET /metrics`: Prometheus text computed from the database, protected by token or staff."""

import urllib.error
import urllib.request

import pytest
from django.contrib.auth.models import User
from prometheus_client.parser import text_string_to_metric_families

from builder.definition import validate
from builder.models import Trigger, Workflow
from tests.runs import start, wait_for

FLAKY = {"max_attempts": 3, "initial_interval_s": 0.05, "jitter": False}


def scrape(client, **headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


@pytest.mark.django_db(transaction=True)
def test_counters_move_after_a_few_runs(client, workspace, worker, settings):
    # Given a scrape before anything ran
    settings.METRICS_PUBLIC = True
    before = scrape(client)
    # When a flaky run succeeds, a failing one is compensated and a webhook starts a third
    flaky = start(
        workspace,
        [
            {"key": "a", "action": "debug.echo", "compensate": {"action": "debug.echo"}},
            {"key": "b", "action": "debug.fail", "input": {"fail_times": 1}, "retry": FLAKY},
        ],
    )
    failing = start(
        workspace,
        [
            {"key": "a", "action": "debug.echo", "compensate": {"action": "debug.echo"}},
            {"key": "b", "action": "debug.fail", "retry": {"max_attempts": 1}},
        ],
    )
    workflow = Workflow.objects.create(workspace=workspace, slug="hook", name="Hook")
    workflow.publish(validate({"steps": [{"key": "a", "action": "debug.echo"}]}, workspace))
    trigger = Trigger.objects.create(workflow=workflow, token=Trigger.new_token())
    assert (
        client.post(f"/hooks/{trigger.token}", data={}, content_type="application/json").status_code
        == 202
    )
    assert wait_for(flaky).status == "succeeded"
    assert wait_for(failing).status == "compensated"
    after = scrape(client)
    # Then the runs, attempts, retries, compensations, durations and deliveries moved
    ended = "brickwork_runs_ended_total"
    assert value(after, ended, workflow="", status="succeeded") == 1
    assert value(after, ended, workflow="", status="compensated") == 1
    assert value(after, "brickwork_runs_started_total", workflow="hook") == 1
    attempts = "brickwork_attempts_total"
    assert (
        value(after, attempts, action="debug.fail", outcome="failed")
        - value(before, attempts, action="debug.fail", outcome="failed")
        == 2
    )
    assert value(after, attempts, action="debug.echo", outcome="succeeded") >= 3
    assert value(after, "brickwork_retries_total", action="debug.fail") == 1
    assert value(after, "brickwork_compensations_total", status="succeeded") == 1
    count = value(after, "brickwork_attempt_duration_seconds_count", action="debug.fail")
    assert count == 3
    assert (
        value(after, "brickwork_attempt_duration_seconds_bucket", action="debug.fail", le="+Inf")
        == 3
    )
    assert value(after, "brickwork_webhook_deliveries_total", verdict="accepted") == 1
    assert value(after, "brickwork_workers_live") >= 1
    assert ("brickwork_broker_queue_depth", (("queue", "brickwork"),)) in after


@pytest.mark.django_db
def test_a_token_or_a_staff_login_is_needed_when_a_token_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    scrape(client, Authorization="Bearer s3cret-metrics")
    client.force_login(User.objects.create_user("ops", is_staff=True))
    scrape(client)


@pytest.mark.django_db
def test_without_a_token_nobody_but_staff_may_scrape_not_even_loopback(live_server, settings):
    # Given no METRICS_TOKEN, and a scraper on the server's own host (as a reverse proxy is)
    settings.METRICS_TOKEN = ""
    # When it asks for /metrics, with or without some bearer token
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer x"}):
        request = urllib.request.Request(f"{live_server.url}/metrics", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        # Then it is refused
        assert refused.value.code == 401
        assert refused.value.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'


@pytest.mark.django_db
def test_a_signed_in_user_who_is_not_staff_may_not_scrape(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics"
    client.force_login(User.objects.create_user("someone"))
    assert client.get("/metrics").status_code == 401


@pytest.mark.django_db
def test_metrics_public_opens_it_to_anyone(live_server, settings):
    # Given METRICS_PUBLIC on (a private network, scraped without credentials)
    settings.METRICS_PUBLIC = True
    # When anyone asks
    with urllib.request.urlopen(f"{live_server.url}/metrics", timeout=10) as response:
        # Then the metrics are served
        assert response.status == 200
        assert b"brickwork_runs_active" in response.read()
