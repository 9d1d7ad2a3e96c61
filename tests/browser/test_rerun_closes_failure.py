"""Closing the failure loop in a browser, with a real worker: a failed run is rerun from
its failed step with that step's input edited; the rerun succeeds, the original is
resolved and shows the rerun's status, and the inbox count drops."""

import re

import pytest
from playwright.sync_api import expect

from runner.models import Run
from tests.browser.test_run_page import checkout
from tests.runs import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_rerun_with_an_edited_step_input_resolves_the_original(
    worker, workspace, alice, alice_page, screenshot
):
    page = alice_page
    inbox_count = page.locator("nav a[href$='/failures/'] .count")
    # Given a run whose `charge` step failed for good (compensated) and sits in the inbox
    original = wait_for(checkout(workspace, alice))
    assert original.status == "compensated"
    page.goto(f"/w/acme/runs/{original.id}/")
    expect(inbox_count).to_have_text("1")

    # When alice reruns it from the failed step, with the failed step's input edited
    page.locator("#rerun-button").click()
    dialog = page.locator("#rerun-dialog")
    expect(dialog).to_be_visible()
    resolve = dialog.get_by_label("Resolve the original when this succeeds")
    expect(resolve).to_be_checked()
    resolve.scroll_into_view_if_needed()
    screenshot(page, "rerun-dialog-options", full_page=False)
    step_input = dialog.get_by_label(re.compile("Input of the failed step"))
    expect(step_input).to_have_value(re.compile('"fail_times": -1'))
    # the ledger says what the rerun reuses and what runs again, with side effects
    expect(dialog.locator("li[data-step=greet]")).to_contain_text("reused")
    expect(dialog.locator("li[data-step=charge]")).to_contain_text("side effects again")
    # a broken edit is refused with a field error in the dialog
    step_input.fill('{"fail_times": ')
    dialog.get_by_role("button", name="Start rerun").click()
    expect(page.locator("#rerun-dialog .errorlist")).to_contain_text("Not valid JSON")
    dialog = page.locator("#rerun-dialog")
    dialog.get_by_label(re.compile("Input of the failed step")).fill('{"fail_times": 0}')
    screenshot(page, "rerun-dialog-step-input", full_page=False)
    dialog.get_by_role("button", name="Start rerun").click()

    # Then the rerun succeeds with the edited input
    expect(page).not_to_have_url(re.compile(rf"/runs/{original.id}/$"), timeout=10_000)
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=15_000)
    rerun = Run.objects.get(rerun_of=original)
    assert rerun.steps.get(key="charge").input == {"fail_times": 0}
    # the inbox count drops (the original is resolved, the rerun never failed)
    expect(inbox_count).to_have_count(0)

    # and the original's page shows it resolved by the rerun, with the rerun's status
    page.goto(f"/w/acme/runs/{original.id}/")
    expect(page.locator("#run-resolved")).to_contain_text(f"by rerun #{rerun.id}")
    expect(page.locator(f"#run-reruns [data-rerun='{rerun.id}']")).to_contain_text("succeeded")
    screenshot(page, "original-resolved-by-rerun")
    original.refresh_from_db()
    assert original.resolved_by_run_id == rerun.id


def test_the_original_shows_a_running_rerun_live(worker, workspace, alice, alice_page):
    from runner import reruns

    page = alice_page
    # Given a compensated run, rerun from the start with a slow failed step that succeeds
    original = wait_for(checkout(workspace, alice))
    rerun = reruns.rerun(
        original,
        start_from="failed",
        step_inputs={"charge": {"fail_times": 1}},  # one retry 1.2 s later, then success
        user=alice,
    )
    # When alice watches the original while the rerun runs
    page.goto(f"/w/acme/runs/{original.id}/")
    badge = page.locator(f"#run-reruns [data-rerun='{rerun.id}'] .badge")
    expect(badge).to_have_text(re.compile("queued|running"))
    # Then the rerun's status changes there without a reload, and the original is resolved
    page.evaluate("window.__sameDocument = true")
    expect(badge).to_have_text("succeeded", timeout=15_000)
    expect(page.locator("#run-resolved")).to_contain_text(f"by rerun #{rerun.id}")
    expect(page.locator("#timeline-poll[data-finished]")).to_be_attached(timeout=5_000)
    assert page.evaluate("window.__sameDocument") is True
