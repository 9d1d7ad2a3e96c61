"""Alerts reach a real SMTP server and a real HTTP receiver on loopback, signed, once per
fingerprint per window (the repeats counted), with no secret value in them."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from builder.definition import validate
from builder.models import Workflow
from builder.signatures import verify_timestamped
from core.models import Secret
from runner import alerts
from runner.alert_models import Alert, AlertDelivery, AlertRule
from tests.runs import start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SECRET_VALUE = "s3cr3t-value-xyz"
SIGNING = "whsec-alerts-test"


def failing(workflow_key="charge"):
    return [
        {"key": "reserve", "action": "debug.echo", "input": {"item": "book"}},
        {
            "key": workflow_key,
            "action": "debug.fail",
            "input": {"message": "card refused for {{ input.token }}", "retryable": False},
        },
    ]


@pytest.fixture
def workflow(workspace):
    workflow = Workflow.objects.create(workspace=workspace, slug="checkout", name="Checkout")
    workflow.publish(validate({"name": "Checkout", "steps": failing()}, workspace))
    return workflow


def run_of(workflow, steps=None):
    version = workflow.latest_version()
    return start(
        workflow.workspace,
        steps or version.definition["steps"],
        input={"token": SECRET_VALUE},
        workflow=workflow,
        workflow_version=version,
    )


def rule_for(workspace, url, **fields):
    rule = AlertRule(workspace=workspace)
    changes = {
        "name": "On-call",
        "events": ["failed"],
        "email_to": "oncall@example.com",
        "webhook_url": url,
        "webhook_secret": SIGNING,
        "window_s": 3600,
        **fields,
    }
    assert alerts.save_rule(rule, changes) == {}
    return rule


def until(check, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"no {what} within {timeout} s")


def posts(http_server, path):
    return [r for r in http_server.requests if r["path"] == path]


def test_one_alert_per_fingerprint_signed_on_both_channels_without_secrets(
    worker, workspace, workflow, smtp_server, http_server
):
    smtp_server.clear()
    http_server.clear()
    Secret.set(workspace, "CARD_TOKEN", SECRET_VALUE)
    rule = rule_for(workspace, f"{http_server.url}/alerts")

    # When three runs fail at the same step with the same error
    runs = [run_of(workflow) for _ in range(3)]
    assert [wait_for(run).status for run in runs] == ["failed"] * 3

    # Then one alert goes out, by e-mail and by webhook, and the other two are folded in
    until(lambda: posts(http_server, "/alerts"), what="webhook POST")
    until(lambda: smtp_server.messages, what="e-mail")
    until(lambda: Alert.objects.filter(rule=rule, count=3).exists(), what="folded count 3")
    time.sleep(1.5)  # a few more sweeper passes: still one of each
    assert len(posts(http_server, "/alerts")) == 1
    assert len(smtp_server.messages) == 1
    alert = Alert.objects.get(rule=rule)
    assert alert.fingerprint == "failed:checkout:charge:NonRetryable"
    # whichever of the three failed first is the one named (two workers race to fail them)
    assert alert.run_id in {run.id for run in runs}

    # The webhook is signed like our triggers, and Slack-compatible
    request = posts(http_server, "/alerts")[0]
    raw = request["body"].encode()
    verify_timestamped(SIGNING, raw, request["headers"]["Brickwork-Signature"], time.time())
    body = json.loads(raw)
    assert body["text"].startswith(f"Run #{alert.run_id} of Checkout failed at step charge")
    assert body["alert"]["workflow"] == "checkout" and body["alert"]["step"] == "charge"
    assert body["alert"]["error_code"] == "NonRetryable"
    # No secret value anywhere: masked in the message, never the signing secret
    mail = smtp_server.messages[0].content.decode()
    for text in (request["body"], mail, alert.text, json.dumps(alert.data)):
        assert SECRET_VALUE not in text and SIGNING not in text
    assert "card refused for ***" in body["text"]
    assert "oncall@example.com" in smtp_server.messages[0].rcpt_tos
    assert "Checkout failed at step charge" in mail

    # When the window has passed, the next failure alerts again, saying how many were folded
    Alert.objects.filter(id=alert.id).update(opened_at=timezone.now() - timedelta(hours=2))
    wait_for(run_of(workflow))
    until(lambda: len(posts(http_server, "/alerts")) == 2, what="second webhook POST")
    second = json.loads(posts(http_server, "/alerts")[1]["body"])
    assert second["alert"]["folded_before"] == 2
    assert "2 more like it were folded into the previous alert." in second["text"]
    sent = AlertDelivery.objects.filter(alert__rule=rule, status="sent")
    assert until(lambda: sent.count() == 4, what="four deliveries sent")


def test_another_step_is_another_fingerprint_and_other_events_are_ignored(
    worker, workspace, workflow, http_server
):
    http_server.clear()
    rule = rule_for(workspace, f"{http_server.url}/fp", email_to="")
    wait_for(run_of(workflow))
    wait_for(run_of(workflow, failing("ship")))
    wait_for(start(workspace, [{"key": "ok", "action": "debug.echo", "input": {}}]))
    until(lambda: len(posts(http_server, "/fp")) == 2, what="two alerts")
    time.sleep(1)
    prints = sorted(Alert.objects.filter(rule=rule).values_list("fingerprint", flat=True))
    assert prints == ["failed:checkout:charge:NonRetryable", "failed:checkout:ship:NonRetryable"]


def test_a_failed_delivery_is_retried_and_the_log_says_so(worker, workspace, workflow, http_server):
    http_server.clear()
    http_server.respond("/flaky", [(500, {"error": "down"}, {}), (200, {"ok": True}, {})])
    rule = rule_for(workspace, f"{http_server.url}/flaky", email_to="")
    wait_for(run_of(workflow))
    delivery = until(
        lambda: AlertDelivery.objects.filter(alert__rule=rule, status="sent").first(),
        what="the delivery sent on its second try",
    )
    assert delivery.tries == 2 and delivery.response_code == 200
    assert len(posts(http_server, "/flaky")) == 2


def test_a_refused_receiver_fails_the_try_with_the_policy_reason(
    worker, workspace, workflow, http_server
):
    rule = rule_for(workspace, "http://169.254.169.254/latest", email_to="")
    alerts.send_test(rule)
    delivery = until(
        lambda: (
            AlertDelivery.objects.filter(alert__rule=rule, tries__gte=1)
            .exclude(last_error="")
            .first()
        ),
        what="a refused try",
    )
    assert "metadata" in delivery.last_error and delivery.status == "pending"


def test_long_runs_and_needs_review(worker, workspace, http_server):
    http_server.clear()
    rule_for(
        workspace,
        f"{http_server.url}/ops",
        email_to="",
        events=["long_run", "needs_review"],
        long_run_s=1,
    )
    slow = start(workspace, [{"key": "nap", "action": "debug.sleep", "input": {"ms": 3000}}])
    review = start(
        workspace,
        [
            {
                "key": "reserve",
                "action": "debug.echo",
                "input": {},
                "compensate": {
                    "action": "debug.fail",
                    "input": {"fail_times": -1},
                    "retry": {"max_attempts": 1},
                },
            },
            {"key": "charge", "action": "debug.fail", "input": {"retryable": False}},
        ],
    )
    wait_for(slow)
    assert wait_for(review).needs_review
    until(lambda: len(posts(http_server, "/ops")) == 2, what="two alerts")
    events = sorted(json.loads(r["body"])["alert"]["event"] for r in posts(http_server, "/ops"))
    assert events == ["long_run", "needs_review"]
