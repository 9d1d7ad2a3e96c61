"""Limits in the browser: one added on the Limits page, then a step it holds back shown
as throttled, with the limit's name, in its run's live timeline."""

import pytest
from playwright.sync_api import expect

from runner.models import ActionLimit, Attempt
from tests.runs import start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_add_a_limit_then_watch_a_step_it_throttles(worker, alice_page, workspace, screenshot):
    page = alice_page
    page.goto("/w/acme/limits/")
    expect(page.get_by_role("heading", name="Limits", exact=True)).to_be_visible()
    page.get_by_label("Name").fill("one nap at a time")
    page.get_by_label("Action").fill("debug.sleep")
    page.get_by_label("At most at once").fill("1")
    page.get_by_role("button", name="Add limit").click()
    expect(page.locator(".messages")).to_contain_text("Added the limit one nap at a time")
    ActionLimit.objects.create(
        workspace=workspace, name="api.example.com", action="http.request",
        key="{{ input.url }}", key_part="host", max_concurrent=5, rate_per_s=10,
    )  # fmt: skip
    # A long nap holds the only slot; a second run, started once it runs, waits for it
    first = start(workspace, [{"key": "long_nap", "action": "debug.sleep", "input": {"ms": 6000}}])
    for _ in range(200):
        if Attempt.objects.filter(run=first, status="running").exists():
            break
        page.wait_for_timeout(100)
    second = start(workspace, [{"key": "nap", "action": "debug.sleep", "input": {"ms": 200}}])
    page.goto("/w/acme/limits/")
    expect(page.locator("tbody")).to_contain_text("1 of 1")
    screenshot(page, "limits", full_page=False)
    page.goto(f"/w/acme/runs/{second.id}/")
    attempt = page.locator("#step-action-nap li[data-status]").first
    expect(attempt).to_have_attribute("data-status", "throttled")
    expect(attempt).to_contain_text("throttled by one nap at a time: 1 at once")
    screenshot(page, "throttled-step", full_page=False)
    # and it runs once the first nap ends, which the live timeline shows
    expect(attempt).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(attempt).to_contain_text("held by one nap at a time first")
    assert wait_for(first).status == "succeeded"
    assert wait_for(second).status == "succeeded"


def test_set_a_workflows_run_limits_in_the_builder(alice_page, workspace, screenshot):
    from builder.models import Workflow

    steps = [{"key": "work", "action": "debug.echo", "input": {}}]
    Workflow.objects.create(
        workspace=workspace, slug="per-customer", name="Per customer",
        draft={"name": "Per customer", "steps": steps},
    )  # fmt: skip
    page = alice_page
    page.goto("/w/acme/workflows/per-customer/settings/")
    page.get_by_label("At most this many runs at once").fill("2")
    page.get_by_label("Concurrency key").fill("customer_id")
    expect(page.locator("#err-settings-concurrency")).to_contain_text("key: one reference")
    page.get_by_label("Concurrency key").fill("{{ input.customer_id }}")
    expect(page.locator("#err-settings-concurrency li")).to_have_count(0)
    screenshot(page, "builder-run-limits", full_page=False)
    workflow = Workflow.objects.get(slug="per-customer")
    assert workflow.draft["max_concurrent_runs"] == 2
    assert workflow.draft["concurrency"] == {"key": "{{ input.customer_id }}", "limit": 1}
