"""An approval on the run page: the waiting step counts down to its timeout, alice approves
it with a comment, and the run finishes live, the decision shown with who and when."""

import re

import pytest
from playwright.sync_api import expect

from tests.runs import start

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = [
    {"key": "review", "type": "approval", "role": "owner", "timeout_s": 3600},
    {"key": "ship", "action": "debug.sleep", "input": {"ms": 4000},
     "when": "steps.review.output.approved == true"},
]  # fmt: skip


def test_approve_from_the_run_page_and_watch_the_run_finish(
    worker, workspace, alice, alice_page, screenshot
):
    page = alice_page
    run = start(workspace, STEPS, user=alice)
    # Given the run waits for an owner's approval
    page.goto("/w/acme/waiting/")
    expect(page.locator(f"#waiting-{run.id}-review")).to_be_visible()
    page.get_by_role("link", name=re.compile(f"#{run.id}")).click()
    review = page.locator("#step-action-review")
    expect(review.locator(".badge.s-waiting")).to_be_visible()
    expect(review).to_contain_text("waiting for approval by an owner or above")
    countdown = review.locator("time[data-countdown]")
    expect(countdown).to_have_text(re.compile(r"^59 min \d+ s$"))
    screenshot(page, "wait-approval-pending")
    # When alice approves it with a comment
    review.get_by_label("Comment on review").fill("Looks right")
    review.get_by_role("button", name="Approve").click()
    # Then the decision shows with who and when, and the run finishes live
    review = page.locator("#step-action-review")
    expect(review).to_contain_text(
        re.compile(r"approved by alice at \d{4}-\d\d-\d\d .*Looks right")
    )
    expect(page.locator("#run-status")).to_have_attribute("data-status", "running")
    page.evaluate("window.__sameDocument = true")  # no reload from here: live updates only
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded",
                                                          timeout=15_000)  # fmt: skip
    expect(page.locator("#step-action-ship .tl-step-title .badge.s-succeeded")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "wait-approval-done")
    output = run.steps.get(key="review").output
    assert output == {"approved": True, "by": "alice", "comment": "Looks right"}
