"""A toast (role=status) when a run started in this browser session ends, from the run
page's live polling; a run started elsewhere ends without one. A real worker runs them."""

import re

import pytest
from playwright.sync_api import expect

from runner.models import Run
from tests.runs import start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_toast_says_when_my_run_ends(worker, workspace, alice, alice_page, screenshot):
    page = alice_page
    # Given alice starts a run of debug.sleep from its run form
    page.goto("/w/acme/actions/debug.sleep/run")
    page.get_by_label("ms").fill("1500")
    page.get_by_role("button", name="Start run").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    run = Run.objects.latest("id")
    # When it ends while she watches its page
    toasts = page.get_by_role("status").filter(has=page.locator(".toast"))
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=15_000)
    # Then a toast in a status region says so, with a link to the run
    expect(toasts).to_contain_text(f"Run #{run.id} succeeded.")
    expect(toasts.get_by_role("link", name=f"Run #{run.id}")).to_be_visible()
    screenshot(page, "run-toast", full_page=False)
    toasts.get_by_role("button", name="Dismiss").click()
    expect(page.locator("#toasts .toast")).to_have_count(0)


def test_no_toast_for_a_run_started_elsewhere(worker, workspace, alice, alice_page):
    page = alice_page
    run = start(workspace, [{"key": "nap", "action": "debug.sleep", "input": {"ms": 1000}}])
    page.goto(f"/w/acme/runs/{run.id}/")
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=15_000)
    wait_for(run)
    page.wait_for_timeout(500)
    expect(page.locator("#toasts .toast")).to_have_count(0)
