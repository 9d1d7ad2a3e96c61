"""A new user's first minutes, in Chromium: sign up, import a workflow whose first step
fails once and then succeeds, publish it, run it, and watch the run page reach `succeeded`
live. Once on the product as `make run` starts it (SQLite, private Redis, its own worker
and gunicorn) and once on the suite's PostgreSQL live server with the real worker."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.make_run import Up
from tests.personas import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Attempt 1 of `flaky` fails, attempt 2 (3 s later) succeeds; then `greet` runs.
DEFINITION = {
    "name": "Retry demo",
    "steps": [
        {
            "key": "flaky",
            "action": "debug.fail",
            "input": {"fail_times": 1},
            "retry": {"max_attempts": 3, "initial_interval_s": 3, "jitter": False},
        },
        {
            "key": "greet",
            "action": "debug.echo",
            "input": {"after_attempts": "{{ steps.flaky.output.succeeded_on_attempt }}"},
        },
    ],
}


@pytest.fixture(params=["make-run-sqlite", "postgresql"])
def product(request, tmp_path):
    """The base URL of a running Brickwork with a live worker."""
    if request.param == "postgresql":
        request.getfixturevalue("worker")
        yield request.getfixturevalue("live_server").url
        return
    with Up(tmp_path) as up:
        up.wait_healthy()
        yield up.url
        assert up.interrupt() == 0, up.log()


def test_a_new_user_signs_up_runs_a_retried_workflow_and_watches_it_succeed(
    request, product, browser, screenshot
):
    context = browser.new_context(base_url=product, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    # Given a new user who signs up, with a workspace of her own
    page.goto("/signup/")
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Email").fill("newcomer@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_label("Workspace name").fill("Newcomer Lab")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/w/newcomer-lab/$"))

    # When she creates a workflow and imports its definition as JSON
    page.get_by_role("link", name="Workflows").first.click()
    page.get_by_role("button", name="+ New workflow").click()
    page.get_by_label("Name").fill("Retry demo")
    page.get_by_role("button", name="Create and open the builder").click()
    expect(page).to_have_url(re.compile(r"/w/newcomer-lab/workflows/retry-demo/$"))
    page.get_by_label("Import or export the definition").click()
    page.get_by_role("link", name="Import definition…").click()
    page.locator("textarea[name=definition]").fill(json.dumps(DEFINITION, indent=2))
    expect(page.locator("#checked")).to_contain_text("Valid")
    page.get_by_role("button", name="Import into the draft").click()
    expect(page.locator(".messages")).to_contain_text("Imported the definition")
    # And publishes it
    page.get_by_role("button", name="Publish…").click()
    page.get_by_role("button", name="Publish v1").click()
    expect(page.locator(".messages")).to_contain_text("as v1")
    # And runs it
    page.locator("#run-button").click()
    page.get_by_role("button", name="Start the run").click()
    expect(page).to_have_url(re.compile(r"/w/newcomer-lab/runs/\d+/$"))
    page.evaluate("window.__sameDocument = true")

    # Then the run page shows the failed first attempt, then the run succeeding, live
    expect(page.locator("#run-status")).to_have_text("running")
    flaky = page.locator("#step-action-flaky")
    expect(flaky.locator("li[data-status=failed]")).to_have_count(1, timeout=20_000)
    expect(flaky).to_contain_text("retry 2 of 3 in 3.0 s")
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=30_000)
    expect(flaky.locator("li[data-status=succeeded]")).to_have_count(1)
    expect(page.locator("#step-action-greet")).to_contain_text("succeeded")
    expect(page.locator("#timeline-poll[data-finished]")).to_be_attached()
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    screenshot(page, f"new-user-run-{request.node.callspec.id}")
    context.close()
