"""The step panel's condition editor and error-route form, in Chromium: a condition picked
from its autocomplete with the keyboard, a bad one answered with a field error, an
`on_error` route set with checkboxes, and the for-each item offered at once."""

import pytest
from playwright.sync_api import expect

from builder.models import Workflow
from tests.browser.test_accessibility import violations
from tests.browser.test_builder import canvas_ready, edited, saved

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = [
    {"key": "charge", "action": "debug.echo@1", "input": {}},
    {"key": "receipt", "action": "debug.echo@1", "input": {}, "after": ["charge"]},
]


@pytest.fixture
def workflow(workspace, alice):
    return Workflow.objects.create(
        workspace=workspace, slug="pay", name="Pay", draft={"name": "Pay", "steps": STEPS}
    )


def open_step(page, index):
    page.goto(f"/w/acme/workflows/pay/?step={index}")
    canvas_ready(page)


def stored_step(workflow, index):
    workflow.refresh_from_db()
    return workflow.draft["steps"][index]


def test_pick_a_condition_reference_with_the_keyboard(alice_page, workflow, screenshot):
    page = alice_page
    open_step(page, 1)
    when = page.locator("#f-when")
    when.focus()
    when.press_sequentially("steps.ch")
    listbox = page.locator("#f-when-list")
    expect(listbox).to_be_visible()
    expect(when).to_have_attribute("aria-expanded", "true")
    expect(listbox.locator("[role=option]:visible")).to_have_count(3)  # output, status, error
    when.press_sequentially("arge.st")
    when.press("ArrowDown")
    expect(listbox.locator("[aria-selected=true]")).to_have_attribute(
        "data-ref", "steps.charge.status"
    )
    screenshot(page, "condition_editor_open")
    when.press("Enter")
    expect(listbox).to_be_hidden()
    expect(when).to_have_value("steps.charge.status")
    when.press_sequentially(' == "succeeded"')
    expect(listbox).to_be_hidden()  # a space ends a name: no list over the operator
    saved(page)
    assert stored_step(workflow, 1)["when"] == 'steps.charge.status == "succeeded"'
    # The mouse picks too: the name under the cursor is completed, the rest stays
    when.press("End")
    when.press_sequentially(" and inp")
    page.locator("#f-when-list [data-ref='input']").click()
    expect(when).to_have_value('steps.charge.status == "succeeded" and input')
    saved(page)
    assert stored_step(workflow, 1)["when"] == 'steps.charge.status == "succeeded" and input'


def test_a_bad_condition_is_a_field_error_in_the_panel(alice_page, workflow, screenshot):
    page = alice_page
    open_step(page, 1)
    page.locator("#f-when").fill("steps.charge.output.total >")
    error = page.locator("#err-when")
    expect(error).to_contain_text("at column 28")
    page.locator("#f-when").fill("steps.receipt.output.total > 1")
    expect(error).to_contain_text("does not run before this one")
    expect(page.locator("#f-when")).to_have_attribute("aria-describedby", "f-when-help err-when")
    screenshot(page, "condition_editor_error")


def test_an_error_route_set_with_the_form_round_trips(alice_page, workflow, screenshot):
    page = alice_page
    open_step(page, 0)
    row = page.locator("#route-0")
    expect(row.locator("legend")).to_have_text("New route")
    row.get_by_label("timeout", exact=False).first.check()
    row.locator("#route-0-codes").fill("card_declined")
    row.locator("input[name='route-0-next'][value='receipt']").check()
    saved(page)
    assert stored_step(workflow, 0)["on_error"] == [
        {"match": ["timeout", "card_declined"], "next": ["receipt"]}
    ]
    # Drawn again from the definition: the row as set, and a new blank one
    edited(page, lambda: page.locator("#route-add").click())
    expect(page.locator("#route-0 legend")).to_have_text("Route 1")
    expect(page.locator("#route-0 input[value='timeout']")).to_be_checked()
    expect(page.locator("#route-0-codes")).to_have_value("card_declined")
    expect(page.locator("#route-1 legend")).to_have_text("New route")
    # A route with no handler is a field error in its own row
    page.locator("#route-1 input[value='*']").check()
    expect(page.locator("#err-on_error-1")).to_contain_text("must name at least one handler")
    page.locator("#route-1 input[value='*']").uncheck()
    expect(page.locator("#err-on_error-1")).to_be_empty()
    screenshot(page, "error_routes_form")
    # The JSON stays at hand for power users
    edited(page, lambda: page.locator("#route-view-json").click())
    expect(page.locator("#f-on-error")).to_contain_text('"card_declined"')
    edited(page, lambda: page.locator("#route-view-form").click())
    expect(page.locator("#route-0-codes")).to_have_value("card_declined")


def test_the_for_each_picker_offers_the_item_at_once(alice_page, workflow):
    page = alice_page
    open_step(page, 1)
    chip = page.locator('[data-insert-ref="item"]')
    expect(chip).to_be_hidden()
    source = page.locator("#f-for-each")
    source.focus()
    source.press_sequentially("charge.out")
    source.press("ArrowDown")
    source.press("Enter")
    expect(source).to_have_value("{{ steps.charge.output }}")
    expect(chip).to_be_visible()  # without opening the panel again
    saved_or_error = page.locator("#builder")
    expect(saved_or_error).to_have_attribute("data-saving", "false")
    assert stored_step(workflow, 1)["for_each"] == "{{ steps.charge.output }}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_condition_editor_and_route_form_pass_axe(
    browser, browser_context_args, log_in, alice, workflow, scheme
):
    # The crawl of test_accessibility.py opens no step panel: this one does, list open.
    context = browser.new_context(**browser_context_args, bypass_csp=True)
    try:
        page = log_in(context.new_page(), alice)
        page.emulate_media(color_scheme=scheme)
        open_step(page, 1)
        page.locator("#f-when").focus()
        page.locator("#f-when").press("ArrowDown")
        expect(page.locator("#f-when-list")).to_be_visible()
        assert violations(page) == []
    finally:
        context.close()
