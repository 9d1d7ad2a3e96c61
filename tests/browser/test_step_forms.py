"""The step panel's typed input fields in a real browser: two steps filled through their
forms, a reference picked from the autocomplete with the mouse and one with the keyboard,
then "Test this step" runs the step on a real worker and shows its output live."""

import pytest
from playwright.sync_api import expect

from builder.models import Workflow
from runner.models import Run
from runner.states import Trigger

pytestmark = pytest.mark.django_db(transaction=True)

DRAFT = {
    "name": "Greeter",
    "input_schema": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "delay": {"type": "integer"}},
    },
    "steps": [
        {"key": "check", "action": "debug.fail@1", "input": {}},
        {"key": "nap", "action": "debug.sleep@1", "input": {"ms": 1}},
    ],
}


def saved(page):
    expect(page.locator("#builder")).to_have_attribute("data-saving", "false")


def open_step(page, key):
    page.locator(f"#step-{key}-edit").click()
    expect(page.locator("#panel-key")).to_have_text(key)


def field(page, name):
    return page.locator(f".typed-field[data-field='{name}']")


def test_fill_two_steps_through_their_forms_and_test_one(
    worker, workspace, alice, alice_page, screenshot
):
    workflow = Workflow.objects.create(
        workspace=workspace, slug="greeter", name="Greeter", draft=DRAFT
    )
    page = alice_page
    page.goto("/w/acme/workflows/greeter/")

    # Given the fail step's typed form: a number, a checkbox, a text, required marks
    open_step(page, "check")
    field(page, "fail_times").locator("[data-typed]").fill("0")
    field(page, "retryable").locator("[data-typed]").check()
    field(page, "code").locator("[data-typed]").fill("E42")
    # When she switches `message` to a reference and picks input.name with the mouse
    field(page, "message").get_by_role("button", name="Ref").click()
    combo = field(page, "message").get_by_role("combobox")
    expect(combo).to_be_focused()
    expect(combo).to_have_attribute("aria-expanded", "true")
    field(page, "message").get_by_role("option", name="input.name").click()
    expect(combo).to_have_value("{{ input.name }}")
    screenshot(page, "step-form-fields", full_page=False)
    # Then the JSON view holds the same value, and the server saved it
    saved(page)
    workflow.refresh_from_db()
    assert workflow.draft["steps"][0]["input"] == {
        "fail_times": 0,
        "retryable": True,
        "code": "E42",
        "message": "{{ input.name }}",
    }

    # When she opens the sleep step (ms is required) and uses only the keyboard for `ms`
    open_step(page, "nap")
    expect(field(page, "ms").locator("label")).to_contain_text("(required)")
    field(page, "ms").locator("[data-typed]").focus()
    page.keyboard.press("Shift+Tab")  # back to the field's Ref toggle
    page.keyboard.press("Enter")
    combo = field(page, "ms").get_by_role("combobox")
    expect(combo).to_be_focused()
    page.keyboard.type("{{ del")
    expect(field(page, "ms").get_by_role("option")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    expect(field(page, "ms").get_by_role("option", name="input.delay")).to_have_attribute(
        "aria-selected", "true"
    )
    screenshot(page, "step-form-autocomplete", full_page=False)
    page.keyboard.press("Enter")
    expect(combo).to_have_value("{{ input.delay }}")
    expect(page.locator("#f-input")).to_have_value('{\n  "ms": "{{ input.delay }}"\n}')
    saved(page)
    workflow.refresh_from_db()
    assert workflow.draft["steps"][1]["input"] == {"ms": "{{ input.delay }}"}

    # And "Test this step" with a sample input runs it on the worker and shows the output
    page.get_by_text("Test this step").click()
    page.locator("#f-sample-input").fill('{"delay": 5}')
    page.get_by_role("button", name="Run the action once").click()
    expect(page.locator("#test-output")).to_contain_text('"slept_ms": 5', timeout=20_000)
    run = Run.objects.get(trigger=Trigger.TEST)
    expect(page.locator("#test-run-link")).to_have_attribute("href", f"/w/acme/runs/{run.id}/")
    page.locator("#test-result").scroll_into_view_if_needed()
    screenshot(page, "step-form-test")

    # And the JSON toggle hides the power users' view, which edits the same value
    page.locator("#json-toggle").click()
    expect(page.locator("#f-input")).to_be_hidden()
    page.locator("#json-toggle").click()
    page.locator("#f-input").fill('{"ms": 250}')
    expect(field(page, "ms").locator("[data-typed]")).to_have_value("250")
    expect(field(page, "ms").locator(".typed-value")).to_be_visible()
    saved(page)
    workflow.refresh_from_db()
    assert workflow.draft["steps"][1]["input"] == {"ms": 250}
