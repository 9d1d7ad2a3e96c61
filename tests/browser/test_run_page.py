"""Issue item 2: a failing step's attempts, retry decisions and compensations appear live on
the run page, which ends `compensated`; a rerun from the failed step with an edited input
succeeds and links back to the original. A real worker runs everything."""

import re

import pytest
from playwright.sync_api import expect

from builder.definition import validate
from builder.models import Workflow
from runner import launch
from runner.models import Run
from tests.web import saga_steps

pytestmark = pytest.mark.django_db(transaction=True)

# Retries 1.2 s apart: slow enough to watch each attempt appear on the page.
STEPS = saga_steps(retry={"initial_interval_s": 1.2, "backoff_coefficient": 1, "jitter": False})


def checkout(workspace, user):
    definition = validate({"name": "Checkout", "steps": STEPS}, workspace)
    workflow = Workflow.objects.create(
        workspace=workspace, slug="checkout", name="Checkout", draft=definition
    )
    version = workflow.publish(definition, "first", user)
    return launch.start_run(
        workspace=workspace,
        definition=definition,
        input={"name": "Ada", "fail_times": -1},
        workflow=workflow,
        workflow_version=version,
        user=user,
    )


def test_failing_run_live_then_rerun_from_failed_step(
    worker, workspace, alice, alice_page, screenshot
):
    page = alice_page
    # Given a run whose last step always fails, retried 3 times 1.2 s apart
    run = checkout(workspace, alice)
    # When alice opens its page while it is still running
    page.goto(f"/w/acme/runs/{run.id}/")
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#timeline-poll .live")).to_be_visible()
    charge = page.locator("#step-action-charge")

    # Then each attempt and its retry decision appear, live
    expect(charge.locator("#attempt-" + str(_attempt_id(run, 1)))).to_contain_text(
        "retry 2 of 3 in 1.2 s", timeout=10_000
    )
    expect(charge.locator("li[data-status=failed]")).to_have_count(2, timeout=10_000)
    expect(charge).to_contain_text("retry 3 of 3 in 1.2 s")
    expect(charge.locator("li[data-status=failed]")).to_have_count(3, timeout=10_000)
    expect(charge).to_contain_text("out of attempts (3 of 3)")
    # then the compensation of `reserve`, then the final status
    compensation = page.locator("#step-compensation-reserve")
    expect(compensation).to_be_visible(timeout=10_000)
    expect(compensation).to_contain_text("succeeded")
    expect(page.locator("#run-status")).to_have_text("compensated", timeout=10_000)
    expect(page.locator("#timeline-poll[data-finished]")).to_be_attached()
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    screenshot(page, "run-compensated")

    # The traceback of a failed attempt is one click away
    charge.locator("li[data-status=failed] summary").first.click()
    expect(charge.locator("pre.trace").first).to_contain_text("debug.fail failed attempt 1")

    # "Failures only" keeps the failing step and drops the rest
    page.get_by_role("link", name="Failures only").click()
    expect(page.locator("#step-action-charge")).to_be_visible()
    expect(page.locator("#step-action-greet")).to_be_hidden()
    page.get_by_role("link", name="All", exact=True).click()

    # When alice reruns it from the failed step with an edited input
    page.locator("#rerun-button").click()
    dialog = page.locator("#rerun-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#ledger")).to_contain_text("greet")
    expect(dialog.locator("li[data-step=greet]")).to_contain_text("reused")
    expect(dialog.locator("li[data-step=reserve]")).to_contain_text("undone by compensation")
    screenshot(page, "rerun-dialog", full_page=False)
    # a broken edit is refused with a field error, and the dialog stays open
    dialog.get_by_label("Edited input", exact=True).check()
    dialog.locator("#id_input").fill('{"name": "Ada", "fail_times": 0')
    dialog.get_by_role("button", name="Start rerun").click()
    expect(page.locator("#rerun-dialog .errorlist")).to_contain_text("Not valid JSON")
    dialog = page.locator("#rerun-dialog")
    dialog.locator("#id_input").fill('{"name": "Ada", "fail_times": 0}')
    dialog.get_by_role("button", name="Start rerun").click()

    # Then the new run succeeds and links to the original
    expect(page).not_to_have_url(re.compile(rf"/runs/{run.id}/$"), timeout=10_000)
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=15_000)
    rerun = Run.objects.exclude(id=run.id).get()
    assert rerun.rerun_of_id == run.id and rerun.rerun_from == "failed"
    assert rerun.input == {"name": "Ada", "fail_times": 0}
    expect(page.locator("#step-action-greet")).to_contain_text("reused")
    link = page.locator("#rerun-of")
    expect(link).to_have_text(f"Rerun of #{run.id}")
    link.click()
    expect(page).to_have_url(re.compile(rf"/runs/{run.id}/$"))


def _attempt_id(run, number):
    """The id of attempt `number` of `charge`, once the engine created it."""
    import time

    from runner.models import Attempt

    for _ in range(100):
        found = Attempt.objects.filter(
            run=run, step_run__key="charge", step_run__kind="action", number=number
        ).first()
        if found:
            return found.id
        time.sleep(0.1)
    raise AssertionError(f"attempt {number} of charge never appeared")


def test_cancel_an_active_run(worker, workspace, alice, alice_page):
    from tests.runs import start

    page = alice_page
    # Given a run busy in a 5 s step (time to click on a loaded machine) after a step that
    # has a compensation
    run = start(
        workspace,
        [
            {
                "key": "reserve",
                "action": "debug.echo",
                "input": {"item": "book"},
                "compensate": {"action": "debug.echo", "input": {"release": "book"}},
            },
            {"key": "wait", "action": "debug.sleep", "input": {"ms": 5000}},
        ],
        user=alice,
    )
    page.goto(f"/w/acme/runs/{run.id}/")
    expect(page.locator("#step-action-wait .badge").first).to_have_text("running", timeout=10_000)
    # When alice cancels it (and confirms)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator(".messages")).to_contain_text("is being cancelled")
    # Then the running step ends, `reserve` is compensated, and the run is cancelled
    expect(page.locator("#step-compensation-reserve")).to_contain_text("succeeded", timeout=15_000)
    expect(page.locator("#run-status")).to_have_text("cancelled", timeout=10_000)
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
