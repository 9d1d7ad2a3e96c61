"""Time limits in a real browser: the run timeout on the workflow's settings page, a
retry budget in the step panel with the preview's cut, and a timed-out run's page."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from builder.definition import validate
from builder.models import Workflow
from runner import engine, run_ending
from runner.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = [
    {"key": "greet", "action": "debug.echo@1", "input": {}},
    {"key": "nap", "action": "debug.sleep@1", "input": {"ms": 1}},
]


def nothing_sent(dispatches):
    """No broker: this test's runs move only by the engine calls it makes."""


def test_time_limits_are_set_with_the_keyboard(workspace, alice, alice_page, screenshot):
    workflow = Workflow.objects.create(
        workspace=workspace, slug="signup", name="Signup", draft={"name": "Signup", "steps": STEPS}
    )
    page = alice_page
    # The workflow's settings: a run timeout, typed, autosaved
    page.goto("/w/acme/workflows/signup/")
    page.get_by_label("Run timeout (s)").fill("90 min")
    expect(page.locator("#err-settings-run_timeout_s")).to_contain_text("whole number of seconds")
    page.get_by_label("Run timeout (s)").fill("5400")
    expect(page.locator("#err-settings-run_timeout_s li")).to_have_count(0)
    page.wait_for_function("!document.querySelector('.htmx-request')")
    screenshot(page, "builder-run-timeout")
    workflow.refresh_from_db()
    assert workflow.draft["run_timeout_s"] == 5400
    # A step's retry budget: the preview crosses out what the budget cuts
    page.goto("/w/acme/workflows/signup/?step=1")
    page.locator("#f-retry-custom").check()
    for label, value in (("#f-max-attempts", "6"), ("#f-initial", "10"),
                         ("#f-coefficient", "2"), ("#f-max-interval", "600")):  # fmt: skip
        page.locator(label).fill(value)
    page.get_by_label("Time budget").first.focus()
    page.keyboard.type("120")
    expect(page.locator("#retry-budget")).to_contain_text("retries stop after attempt 4")
    expect(page.locator("#retry-preview li.cut")).to_have_count(2)
    page.locator("#retry-preview").scroll_into_view_if_needed()
    screenshot(page, "builder-retry-budget", full_page=False)
    workflow.refresh_from_db()
    assert workflow.draft["steps"][1]["retry"]["budget_s"] == 120


def test_a_timed_out_run_says_so_with_its_deadline(workspace, alice, alice_page, screenshot):
    definition = validate({"name": "Timed", "steps": STEPS, "run_timeout_s": 60}, workspace)
    run = engine.start_run(workspace=workspace, definition=definition, input={}, send=nothing_sent)
    Run.objects.filter(id=run.id).update(deadline=timezone.now() - timedelta(seconds=1))
    assert run_ending.time_out_run(run.id, send=nothing_sent)
    page = alice_page
    page.goto(f"/w/acme/runs/{run.id}/")
    expect(page.locator("#run-timed-out")).to_have_text("timed out")
    expect(page.locator("#run-deadline")).to_be_visible()
    expect(page.locator(".run-error")).to_contain_text("Timed out: the run ran past its time limit")
    screenshot(page, "run-timed-out")
