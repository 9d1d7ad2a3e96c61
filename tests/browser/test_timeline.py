"""Issue 13: the run page's timeline in a real browser, with a real worker. Waiting is
drawn apart from working and a scheduled retry counts down; hover or keyboard focus shows
a bar's exact times; zooming into a range rescales the bars and nothing overflows the
card; an attempt's log lines sit beside its output."""

import re

import pytest
from playwright.sync_api import expect

from runner.models import Attempt
from tests.browser.test_accessibility import violations
from tests.runs import start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

NO_OVERFLOW = """() => {
  const card = document.getElementById("timeline-card");
  return [card.scrollWidth, card.clientWidth, document.documentElement.scrollWidth,
          window.innerWidth];
}"""


def bar_width(page, selector):
    return page.locator(selector).evaluate("el => el.getBoundingClientRect().width")


def assert_nothing_overflows(page):
    card_scroll, card_client, doc_scroll, window_width = page.evaluate(NO_OVERFLOW)
    assert card_scroll <= card_client and doc_scroll <= window_width, (card_scroll, card_client)


def test_a_scheduled_retry_counts_down_and_bars_tell_their_times(
    worker, workspace, alice, alice_page, screenshot
):
    page = alice_page
    # Given a step whose first attempt fails, retried 20 s later
    retry = {"max_attempts": 2, "initial_interval_s": 20, "jitter": False}
    steps = [{"key": "flaky", "action": "debug.fail", "input": {"fail_times": 1}, "retry": retry}]
    run = start(workspace, steps)
    # When alice watches the run
    page.goto(f"/w/acme/runs/{run.id}/")
    second = page.locator("#step-action-flaky li[data-status=scheduled]")
    # Then the scheduled attempt counts down, live, to its start
    countdown = second.locator(".next time[data-countdown]")
    expect(countdown).to_have_text(re.compile(r"^\d+ s$"), timeout=10_000)
    first_read = int(countdown.inner_text().split()[0])
    assert 10 < first_read <= 20
    expect(countdown).not_to_have_text(f"{first_read} s", timeout=3_000)
    assert int(countdown.inner_text().split()[0]) < first_read
    expect(second).to_contain_text("next attempt in")
    # And the wait before it is drawn as a wait, apart from the failed attempt's work, and
    # the step, between its attempts, as waiting for the next one
    expect(second.locator(".bar.wait")).to_have_count(1)
    expect(page.locator("#step-action-flaky .tl-step-head .bar.backoff")).to_have_count(1)
    failed = page.locator("#step-action-flaky li[data-status=failed] .bar.failed")
    expect(failed).to_have_count(1)

    # Hovering a bar shows its exact times
    failed.hover()
    tip = page.locator("#tl-tip")
    expect(tip).to_be_visible()
    expect(tip).to_have_text(
        re.compile(r"Attempt 1 failed: \d\d:\d\d:\d\d\.\d{3} to \d\d:\d\d:\d\d\.\d{3} UTC · \d+")
    )
    # And so does the keyboard focus of a row, described by the tooltip
    page.mouse.move(0, 0)
    summary = second.locator("summary")
    page.locator("#step-action-flaky li[data-status=failed] summary").focus()
    page.keyboard.press("Tab")  # the keyboard's focus, not a click's
    expect(summary).to_be_focused()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("waits 20.0 s")
    expect(tip).to_contain_text("due")
    expect(summary).to_have_attribute("aria-describedby", "tl-tip")
    assert_nothing_overflows(page)
    screenshot(page, "timeline-countdown")


def test_zoom_into_a_range_rescales_the_bars_and_nothing_overflows(
    worker, workspace, alice, alice_page, screenshot
):
    page = alice_page
    page.set_viewport_size({"width": 1100, "height": 900})
    # Given a finished run of a few steps, one short among long ones
    steps = [
        {"key": "quick", "action": "debug.echo", "input": {"n": 1}},
        {"key": "nap", "action": "debug.sleep", "input": {"ms": 900}},
        {"key": "note", "action": "debug.log", "input": {"lines": ["slept well", "all done"]}},
        {"key": "nap2", "action": "debug.sleep", "input": {"ms": 900}},
    ]
    run = wait_for(start(workspace, steps))
    assert run.status == "succeeded"
    page.goto(f"/w/acme/runs/{run.id}/")
    nap = "#step-action-nap .tl-step-head .bar"
    whole = bar_width(page, nap)
    ticks = page.locator("#tl-axis .scale span")
    last_tick = ticks.last.inner_text()

    # When alice zooms in twice
    page.get_by_role("button", name="Zoom timeline in").click()
    page.get_by_role("button", name="Zoom timeline in").click()
    # Then the bars are drawn four times as wide, the axis says which range shows, and
    # nothing overflows the card
    assert bar_width(page, nap) == pytest.approx(whole * 4, rel=0.05)
    expect(page.locator("#tl-zoom-status")).to_contain_text("Showing")
    assert ticks.last.inner_text() != last_tick
    assert_nothing_overflows(page)
    screenshot(page, "timeline-zoomed")

    # When she drags across the first fifth of the axis, from the whole run
    page.get_by_role("button", name="Fit whole run").click()
    expect(page.locator("#tl-zoom-status")).to_have_text("")
    assert bar_width(page, nap) == pytest.approx(whole, rel=0.02)
    box = page.locator("#tl-axis .scale").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.1, y, steps=4)
    page.mouse.move(box["x"] + box["width"] * 0.2 + 2, y, steps=4)
    page.mouse.up()
    # Then that range fills the axis: bars are drawn about five times as wide
    expect(page.locator("#tl-zoom-status")).to_have_text(re.compile(r"Showing \d+ ms to \d+ ms"))
    assert bar_width(page, nap) > whole * 4
    assert_nothing_overflows(page)

    # And the log lines of an attempt sit beside its output
    page.get_by_role("button", name="Fit whole run").click()
    note = page.locator("#step-action-note li summary")
    note.click()
    log = page.locator("#step-action-note pre.log")
    expect(log).to_contain_text("INFO brickwork.debug: slept well")
    expect(log).to_contain_text("all done")
    output = page.locator("#step-action-note li pre.json").first
    assert output.bounding_box()["y"] == pytest.approx(log.bounding_box()["y"], abs=30)
    assert_nothing_overflows(page)
    screenshot(page, "timeline-attempt-log")
    assert Attempt.objects.filter(run=run, log__contains="slept well").count() == 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_zoomed_timeline_with_a_log_and_a_tooltip_has_no_serious_violation(
    worker, browser, browser_context_args, log_in, workspace, alice, scheme
):
    steps = [
        {"key": "note", "action": "debug.log", "input": {"lines": ["checked", "x" * 300]}},
        {"key": "nap", "action": "debug.sleep", "input": {"ms": 300}},
    ]
    run = wait_for(start(workspace, steps))
    # The Content-Security-Policy refuses injected scripts: axe is let in by the browser.
    context = browser.new_context(**browser_context_args, bypass_csp=True)
    try:
        page = log_in(context.new_page(), alice)
        page.emulate_media(color_scheme=scheme)
        page.goto(f"/w/acme/runs/{run.id}/")
        page.get_by_role("button", name="Zoom timeline in").click()
        page.locator("#step-action-note li summary").click()
        expect(page.locator("#step-action-note pre.log")).to_contain_text("checked")
        page.locator("#step-action-nap summary.tl-step-head").focus()
        page.keyboard.press("Shift+Tab")  # the log (scrollable, so focusable), then back
        page.keyboard.press("Tab")
        expect(page.locator("#tl-tip")).to_be_visible()
        assert violations(page) == []
    finally:
        context.close()
