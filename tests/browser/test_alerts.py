"""An alert rule made in the browser, with its field errors, then "Send a test": the
worker's sweeper delivers it to a real SMTP server and HTTP receiver, and the delivery
log on the page shows both sent."""

import pytest
from playwright.sync_api import expect

from runner.alert_models import AlertRule

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_an_alert_rule_and_send_a_test(
    worker, alice_page, workspace, screenshot, smtp_server, http_server
):
    smtp_server.clear()
    http_server.clear()
    page = alice_page
    page.goto("/w/acme/alerts/")
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    page.get_by_role("link", name="+ New alert rule").click()
    # Missing events and channels are field errors, not a 500
    page.get_by_label("Name").fill("On-call")
    page.get_by_role("button", name="Create rule").click()
    expect(page.locator(".form-errors")).to_be_visible()
    expect(page.locator(".field.invalid")).to_have_count(2)
    screenshot(page, "alert-rule-errors")
    page.get_by_label("A run failed").check()
    page.get_by_label("A run needs review (a compensation failed)").check()
    page.get_by_label("E-mail to").fill("oncall@example.com")
    page.get_by_label("Webhook URL").fill(f"{http_server.url}/slack")
    page.get_by_label("Webhook signing secret").fill("whsec-browser")
    page.get_by_role("button", name="Create rule").click()
    expect(page.locator(".messages")).to_contain_text("Created the alert rule On-call")
    rule = AlertRule.objects.get()
    row = page.locator(f"#rule-{rule.id}")
    expect(row).to_contain_text("oncall@example.com")
    expect(row).to_contain_text("signed")
    row.get_by_role("button", name="Send a test").click()
    expect(page.locator(".messages")).to_contain_text("test alert of On-call is on its way")
    # The log polls: both deliveries turn "sent" once the sweeper has sent them
    log = page.locator("#delivery-log")
    expect(log.locator("tr[data-status=sent]")).to_have_count(2, timeout=20_000)
    expect(log).to_contain_text("Test alert from the rule On-call")
    assert "whsec-browser" not in page.content()
    screenshot(page, "alerts")
    assert len(smtp_server.messages) == 1
    assert [r["path"] for r in http_server.requests] == ["/slack"]
    page.get_by_role("link", name="On-call").click()
    expect(page.get_by_label("Webhook URL")).to_have_value(f"{http_server.url}/slack")
    screenshot(page, "alert-rule-edit")


def test_the_settings_page_shows_the_retention_figures(alice_page, workspace, screenshot):
    page = alice_page
    page.goto("/w/acme/settings/")
    expect(page.locator("#retention-figures")).to_contain_text("Due for deletion")
    page.get_by_label("Keep runs (days)").fill("0")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".field.invalid")).to_contain_text("greater than or equal to 1")
    page.get_by_label("Keep runs (days)").fill("14")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".messages")).to_contain_text("Saved the retention policy")
    screenshot(page, "workspace-settings")
