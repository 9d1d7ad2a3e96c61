"""The Alerts page: rules with field errors, a test send, and who may do what."""

import pytest

from runner.alert_models import AlertDelivery, AlertRule

pytestmark = pytest.mark.django_db
FORM = {
    "name": "On-call",
    "events": ["failed"],
    "email_to": "oncall@example.com",
    "webhook_url": "",
    "window_s": "3600",
}


def test_create_edit_test_and_delete(client, alice, workspace):
    client.force_login(alice)
    assert client.get("/w/acme/alerts/").status_code == 200
    assert client.post("/w/acme/alerts/new", FORM).status_code == 302
    rule = AlertRule.objects.get()
    edited = client.post(f"/w/acme/alerts/{rule.id}/", {**FORM, "window_s": "120"})
    assert edited.status_code == 302
    rule.refresh_from_db()
    assert rule.window_s == 120
    assert client.post(f"/w/acme/alerts/{rule.id}/test").status_code == 302
    assert AlertDelivery.objects.get().target == "oncall@example.com"
    page = client.get("/w/acme/alerts/").content.decode()
    assert "Test alert from the rule On-call" in page
    assert "Test alert from the rule On-call" in client.get("/w/acme/alerts/log").content.decode()
    assert client.post(f"/w/acme/alerts/{rule.id}/delete").status_code == 302
    assert not AlertRule.objects.exists()


def test_bad_input_is_a_field_error_not_a_500(client, alice, workspace):
    client.force_login(alice)
    bad = client.post(
        "/w/acme/alerts/new", {**FORM, "events": ["long_run"], "window_s": "x", "email_to": "@"}
    )
    assert bad.status_code == 422
    body = bad.content.decode()
    assert "Enter a whole number" in body
    bad = client.post("/w/acme/alerts/new", {**FORM, "events": ["long_run"], "email_to": "@"})
    body = bad.content.decode()
    assert "Say how long a run may take" in body and "is not an e-mail address" in body


def test_viewers_see_rules_but_change_nothing_and_strangers_see_nothing(
    client, alice, bob, charlie, workspace
):
    client.force_login(alice)
    client.post("/w/acme/alerts/new", FORM)
    rule = AlertRule.objects.get()
    client.force_login(bob)
    assert "On-call" in client.get("/w/acme/alerts/").content.decode()
    assert client.post(f"/w/acme/alerts/{rule.id}/test").status_code == 404
    assert client.post("/w/acme/alerts/new", FORM).status_code == 404
    client.force_login(charlie)
    assert client.get("/w/acme/alerts/").status_code == 404
    assert client.post(f"/w/globex/alerts/{rule.id}/delete").status_code == 404
    assert AlertRule.objects.exists()


def test_a_schedule_that_did_not_fire_is_alerted_once(workspace):
    from datetime import timedelta

    from django.utils import timezone

    from builder.models import Workflow
    from runner import alerts
    from runner.alert_models import Alert
    from runner.models import Schedule

    workflow = Workflow.objects.create(workspace=workspace, slug="report", name="Report")
    schedule = Schedule.objects.create(
        workspace=workspace, workflow=workflow, name="hourly", interval_s=3600
    )
    rule = AlertRule(workspace=workspace)
    changes = {"name": "Clock", "events": ["schedule_missed"], "email_to": "a@example.com"}
    assert alerts.save_rule(rule, changes) == {}
    assert alerts.scan() == 0
    Schedule.objects.filter(id=schedule.id).update(missed=3)
    assert alerts.scan() == 1
    assert alerts.scan() == 0  # nothing new since
    alert = Alert.objects.get()
    assert alert.event == "schedule_missed" and "3 fire time(s) missed" in alert.text
    assert alert.title == "Schedule hourly of Report did not fire"
    Schedule.objects.filter(id=schedule.id).update(last_error="The workflow is archived.")
    assert alerts.scan() == 0  # same fingerprint, inside the window: folded
    assert Alert.objects.get().count == 2
    # Old alerts go with their deliveries
    Alert.objects.update(opened_at=timezone.now() - timedelta(days=91))
    alerts.purge_old()
    assert not Alert.objects.exists() and not AlertDelivery.objects.exists()
