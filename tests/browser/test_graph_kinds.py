"""The decisions of a definition drawn as what they are, read from the draft's JSON as it
is (the validator may not know them yet): a switch's cases as labelled edges side by side,
an error route as a red dashed edge, a condition as a badge, waits with their own icon;
and the same graph on a run's page and a version's page."""

import pytest
from playwright.sync_api import expect

from builder.models import Workflow
from tests.browser.test_builder import canvas_ready

pytestmark = pytest.mark.django_db(transaction=True)

DECISIONS = {
    "name": "Order review",
    "steps": [
        {
            "key": "check",
            "action": "http.request@1",
            "input": {"url": "https://shop.example"},
            "on_error": [{"match": ["timeout"], "next": ["apologise"]}],
            "compensate": {"action": "http.request@1", "input": {}},
        },
        {
            "key": "route",
            "type": "switch",
            "after": ["check"],
            "cases": [
                {"name": "big", "when": "steps.check.output.total > 1000", "next": ["review"]},
                {"name": "abroad", "when": 'input.country != "FR"', "next": ["customs"]},
            ],
            "default": ["ship"],
        },
        {"key": "review", "type": "approval", "role": "editor", "after": ["route"]},
        {"key": "customs", "action": "debug.echo@1", "input": {}, "after": ["route"]},
        {
            "key": "ship",
            "action": "email.send@1",
            "input": {},
            "after": ["route"],
            "when": "input.express == true",
        },
        {"key": "cool_off", "type": "sleep", "seconds": 5, "after": ["review", "customs"]},
        {"key": "paid", "type": "event", "event": "payment", "after": ["ship"]},
        {"key": "apologise", "action": "email.send@1", "input": {}, "after": ["check"]},
    ],
}


def test_switch_cases_error_routes_conditions_and_waits(workspace, alice, alice_page, screenshot):
    Workflow.objects.create(
        workspace=workspace, slug="review", name="Order review", draft=DECISIONS
    )
    page = alice_page
    page.goto("/w/acme/workflows/review/")
    canvas_ready(page)
    canvas = page.locator("#canvas")
    expect(canvas.locator(".gnode")).to_have_count(8)
    # The switch's cases: labelled edges, side by side (left to right in case order)
    labels = canvas.locator(".edge-label.kind-case, .edge-label.kind-default")
    expect(labels).to_have_count(3)
    assert sorted(labels.all_inner_texts()) == ["abroad", "big", "default"]
    xs = page.evaluate(
        "[...document.querySelectorAll('#canvas .edge-label')].filter(l => l.textContent !== 'timeout')"
        ".map(l => l.getBoundingClientRect().x)"
    )
    assert len(set(round(x) for x in xs)) == 3
    # The error route: its own kind of edge
    expect(
        canvas.locator('.gedge.kind-error[data-source="check"][data-target="apologise"]')
    ).to_have_count(1)
    expect(canvas.locator(".edge-label.kind-error")).to_have_text("timeout")
    # A condition is a badge; waits and the switch have their own icons and titles
    expect(canvas.locator("#step-ship .chip.cond")).to_contain_text("if input.express == true")
    expect(canvas.locator("#step-cool_off .gnode-icon.wait")).to_have_text("◷")
    expect(canvas.locator("#step-paid .gnode-title")).to_have_text("Wait for event payment")
    expect(canvas.locator("#step-review .gnode-title")).to_have_text("Approval by editor")
    expect(canvas.locator("#step-route .gnode-title")).to_have_text("Switch · 2 cases")
    expect(canvas.locator("#step-check .chip.comp")).to_contain_text("undo")
    # And a screen reader hears the same: dependencies in words
    expect(page.locator("#step-cool_off-deps")).to_contain_text("Runs after review, customs.")
    expect(page.locator("#step-ship-deps")).to_contain_text("Only when input.express == true.")
    screenshot(page, "builder-decisions", full_page=False)
