"""`GET /metrics`: Prometheus text computed from the database, protected by token or staff."""

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
def test_counters_move_after_a_few_runs(client, workspace, worker):
    # Given a scrape before anything ran
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
def test_without_a_token_only_loopback_or_staff_may_scrape(client, settings):
    settings.METRICS_TOKEN = ""
    scrape(client)  # the test client comes from 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 401
    client.force_login(User.objects.create_user("someone"))
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 401
