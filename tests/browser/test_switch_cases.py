"""A switch's cases built in the step panel's rows, in Chromium: one case with the mouse,
one with the keyboard (each condition picked from the reference autocomplete), the second
moved above the first, the default ticked; then published, run, and the case that comes
first in the order is the branch the run takes."""

import pytest
from playwright.sync_api import expect

from builder.models import Workflow
from runner.models import Run
from tests.browser.test_accessibility import violations
from tests.browser.test_build_order_approval import autosaved
from tests.browser.test_builder import canvas_ready, edited, press, tab_to

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {
    "type": "object",
    "properties": {
        "total": {"type": "number", "default": 500},
        "vip": {"type": "boolean", "default": True},
    },
}
STEPS = [
    {"key": "check", "action": "debug.echo", "input": {"vip": "{{ input.vip }}"}},
    # A switch as the palette adds it (builder/draft.py): one case to fill in
    {"key": "route", "type": "switch", "cases": [{"when": 'input.kind == "a"', "next": []}]},
    {"key": "gift", "action": "debug.echo", "input": {}, "after": ["route"]},
    {"key": "review", "action": "debug.echo", "input": {}, "after": ["route"]},
    {"key": "normal", "action": "debug.echo", "input": {}, "after": ["route"]},
]
BUILT = {
    "key": "route",
    "type": "switch",
    "cases": [
        {"name": "vip", "when": "steps.check.output.vip == true", "next": ["gift"]},
        {"name": "big", "when": "input.total > 100", "next": ["review"]},
    ],
    "default": ["normal"],
}


@pytest.fixture
def workflow(workspace, alice):
    draft = {"name": "Shop", "input_schema": SCHEMA, "steps": STEPS}
    return Workflow.objects.create(workspace=workspace, slug="shop", name="Shop", draft=draft)


def shift_tab_to(page, selector, limit=40):
    for _ in range(limit):
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Shift+Tab")
    raise AssertionError(f"{selector} never got the focus")


def focused(page, selector):
    return page.evaluate("s => document.activeElement.matches(s)", selector)


def test_build_a_switch_in_rows_by_mouse_and_keyboard_publish_and_run(
    worker, workflow, alice_page, screenshot
):
    page = alice_page
    page.goto("/w/acme/workflows/shop/?step=1")
    canvas_ready(page)
    first = page.locator("#case-0")
    expect(first.locator("legend")).to_have_text("Case 1")
    expect(page.locator("#case-0-when")).to_have_value('input.kind == "a"')
    expect(page.locator("#err-case-0-name")).to_contain_text("must be a name")

    # With the mouse: a case for big orders, its condition picked from the autocomplete
    page.locator("#case-0-name").click()
    page.locator("#case-0-name").fill("big")
    when = page.locator("#case-0-when")
    when.click()
    when.press("ControlOrMeta+a")
    when.press_sequentially("input.to")
    listbox = page.locator("#case-0-when-list")
    expect(listbox).to_be_visible()
    expect(listbox.locator("[role=option]:visible")).to_have_count(1)
    listbox.locator("[data-ref='input.total']").click()
    expect(when).to_have_value("input.total")
    when.press("End")
    when.press_sequentially(" > 100")
    first.locator("input[name='case-0-next'][value='review']").check()
    autosaved(page)
    expect(page.locator("#err-case-0-name")).to_be_empty()
    edited(page, lambda: page.locator("#case-add").click())
    expect(page.locator("#case-0 legend")).to_have_text("Case 1: big")
    expect(page.locator("#case-1 legend")).to_have_text("New case")
    assert focused(page, "#case-1-name")  # the new row's name, ready to type

    # With the keyboard: a case for VIPs, the step's output picked with ↓ and Enter
    page.keyboard.type("vip")
    tab_to(page, "#case-1-when")
    page.keyboard.type("steps.ch")
    expect(page.locator("#case-1-when-list")).to_be_visible()
    expect(page.locator("#case-1-when")).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#case-1-when-list [aria-selected=true]")).to_have_attribute(
        "data-ref", "steps.check.output"
    )
    screenshot(page, "switch_cases_autocomplete", full_page=False)
    page.keyboard.press("Enter")
    page.keyboard.type(".vip = true")  # a slip: the row says where
    expect(page.locator("#err-case-1-when")).to_contain_text("use == to compare (at column 24)")
    screenshot(page, "switch_cases_row_error", full_page=False)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.keyboard.type("=")
    expect(page.locator("#case-1-when")).to_have_value("steps.check.output.vip == true")
    expect(page.locator("#err-case-1-when")).to_be_empty()
    tab_to(page, "#case-1 input[name='case-1-next'][value='gift']")
    page.keyboard.press("Space")
    tab_to(page, "input[name='default_next'][value='normal']")
    page.keyboard.press("Space")
    autosaved(page)
    # Order decides (the first case that holds wins): VIPs go first, from the keyboard
    tab_to(page, "#case-add")
    press(page, "Enter")
    canvas_ready(page)
    shift_tab_to(page, "#case-1-up")
    expect(page.locator("#case-1-up")).to_have_attribute("aria-label", "Move case 2 (vip) up")
    press(page, "Enter")
    canvas_ready(page)
    expect(page.locator("#case-0 legend")).to_have_text("Case 1: vip")
    expect(page.locator("#case-1 legend")).to_have_text("Case 2: big")
    expect(page.locator("#announcer")).to_have_text("Moved vip to position 1.")
    assert focused(page, "#case-0-up")  # the moved row's button, now at the top
    expect(page.locator("#case-0-up")).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#draft-valid")).to_be_visible()
    workflow.refresh_from_db()
    assert workflow.draft["steps"][1] == BUILT
    expect(page.locator("#canvas .gedge.kind-case")).to_have_count(2)
    page.locator("#panel").scroll_into_view_if_needed()
    screenshot(page, "switch_cases_rows", full_page=False)

    # When she publishes it and runs it with the defaults (a VIP, and a big order)
    page.get_by_role("button", name="Publish…").click()
    page.get_by_role("button", name="Publish v1").click()
    expect(page.locator(".messages")).to_contain_text("as v1")
    assert workflow.versions.get().definition["steps"][1]["cases"] == BUILT["cases"]
    page.get_by_role("link", name="Run", exact=True).click()
    page.get_by_role("button", name="Start the run").click()
    expect(page.locator("#run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    # Then the first case that holds is the branch taken; the others' steps are skipped
    expect(page.locator("#rg-gift")).to_have_attribute("data-state", "succeeded")
    expect(page.locator("#rg-review")).to_have_attribute("data-state", "skipped")
    expect(page.locator("#rg-normal")).to_have_attribute("data-state", "skipped")
    expect(page.locator("#step-action-route")).to_contain_text(
        "case vip: steps.check.output.vip == true"
    )
    expect(page.locator("#step-action-review")).to_contain_text("branch not taken: route chose vip")
    screenshot(page, "switch_cases_run")
    run = Run.objects.get(workflow=workflow)
    assert run.input == {"total": 500, "vip": True}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_case_rows_pass_axe(browser, browser_context_args, log_in, alice, workflow, scheme):
    # The crawl of test_accessibility.py opens no switch: this one does, a list open.
    context = browser.new_context(**browser_context_args, bypass_csp=True)
    try:
        page = log_in(context.new_page(), alice)
        page.emulate_media(color_scheme=scheme)
        page.goto("/w/acme/workflows/shop/?step=1")
        canvas_ready(page)
        page.locator("#case-0-when").fill("")
        page.locator("#case-0-when").press_sequentially("inp")
        expect(page.locator("#case-0-when-list")).to_be_visible()
        assert violations(page) == []
    finally:
        context.close()
