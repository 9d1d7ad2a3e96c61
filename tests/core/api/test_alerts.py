"""Alert rules, a test send and the delivery log through the API."""

import pytest

from core.models import ApiKey
from runner.alert_models import AlertDelivery, AlertRule
from tests.api import Api, error_of

pytestmark = pytest.mark.django_db
RULE = {
    "name": "On-call",
    "events": ["failed", "needs_review"],
    "email_to": ["oncall@example.com"],
    "webhook_url": "https://hooks.example.com/alerts",
    "webhook_secret": "whsec-api",
}


def test_create_read_change_test_and_delete_a_rule(api, workspace):
    created = api.post("/alerts/rules", RULE)
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["signed"] is True and "whsec-api" not in created.content.decode()
    assert rule["events"] == ["failed", "needs_review"] and rule["workflow"] is None
    assert api.get(f"/alerts/rules/{rule['id']}").json()["name"] == "On-call"
    changed = api.patch(f"/alerts/rules/{rule['id']}", {"enabled": False, "window_s": 600})
    assert changed.json()["enabled"] is False and changed.json()["window_s"] == 600
    assert AlertRule.objects.get().webhook_secret == "whsec-api"  # a PATCH without it keeps it
    tested = api.post(f"/alerts/rules/{rule['id']}/test", {})
    assert tested.status_code == 202
    assert {d["channel"] for d in tested.json()["deliveries"]} == {"email", "webhook"}
    log = api.get("/alerts/deliveries").json()
    assert [d["status"] for d in log] == ["pending", "pending"] and log[0]["test"] is True
    assert api.delete(f"/alerts/rules/{rule['id']}").status_code == 204
    assert not AlertDelivery.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"events": []}, "events"),
        ({"events": ["exploded"]}, "events"),
        ({"events": ["long_run"]}, "long_run_s"),
        ({"email_to": ["not-an-address"]}, "email_to"),
        ({"email_to": [], "webhook_url": ""}, "email_to"),
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url"),
        ({"window_s": 5}, "window_s"),
        ({"workflow": "nope"}, "workflow"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_rules_are_field_errors(api, change, field):
    answer = api.post("/alerts/rules", {**RULE, **change})
    assert answer.status_code == 422, answer.content
    assert field in str(error_of(answer)["fields"])


def test_rules_of_another_workspace_do_not_exist_here(api, other_workspace, workspace):
    theirs = Api(api.client, ApiKey.issue(other_workspace, "theirs")[1])
    rule_id = theirs.post("/alerts/rules", RULE).json()["id"]
    assert api.get(f"/alerts/rules/{rule_id}").status_code == 404
    assert api.post(f"/alerts/rules/{rule_id}/test", {}).status_code == 404
    assert api.get("/alerts/rules").json() == []
    assert theirs.post("/alerts/rules", RULE).status_code == 422  # the name is taken there


def test_a_viewer_key_reads_but_cannot_change(client, workspace):
    editor = Api(client, ApiKey.issue(workspace, "rw")[1])
    editor.post("/alerts/rules", RULE)
    viewer = Api(client, ApiKey.issue(workspace, "ro", "viewer")[1])
    # A viewer sees where the webhook goes, not its path (a chat webhook's credential)
    assert viewer.get("/alerts/rules").json()[0]["webhook_url"] == "https://hooks.example.com/…"
    assert viewer.post("/alerts/rules", RULE).status_code == 403
