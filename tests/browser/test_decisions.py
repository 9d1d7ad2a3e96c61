"""Decisions in a real browser: the run page says why steps were skipped, which case a
switch chose and which route handled a failure; the builder panel checks a condition as
it is typed."""

import pytest
from playwright.sync_api import expect

from builder.definition import validate
from builder.models import Workflow
from runner import launch
from tests.runs import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = [
    {"key": "check", "action": "debug.echo", "input": {"total": "{{ input.total }}"}},
    {
        "key": "route",
        "type": "switch",
        "cases": [{"name": "big", "when": "steps.check.output.total > 1000", "next": ["review"]}],
        "default": ["charge"],
    },
    {"key": "review", "action": "debug.echo", "after": ["route"]},
    {
        "key": "charge",
        "action": "debug.fail",
        "after": ["route"],
        "input": {"retryable": False, "message": "card declined", "code": "card_declined"},
        "on_error": [{"match": ["card_declined"], "next": ["apologise"]}],
    },
    {
        "key": "apologise",
        "action": "debug.echo",
        "after": ["charge"],
        "input": {"why": "{{ steps.charge.error.message }}"},
    },
    {"key": "gift", "action": "debug.echo", "after": ["check"], "when": "input.vip == true"},
    {
        "key": "done",
        "action": "debug.echo",
        "after": ["review", "apologise"],
        "after_any": True,
    },
]


def _workflow(workspace, user):
    definition = validate({"name": "Deciding", "steps": STEPS}, workspace)
    workflow = Workflow.objects.create(
        workspace=workspace, slug="deciding", name="Deciding", draft=definition
    )
    return workflow, workflow.publish(definition, "first", user), definition


def test_the_run_page_shows_the_decisions(worker, workspace, alice, alice_page, screenshot):
    workflow, version, definition = _workflow(workspace, alice)
    run = launch.start_run(
        workspace=workspace,
        definition=definition,
        input={"total": 5},
        workflow=workflow,
        workflow_version=version,
        user=alice,
    )
    assert wait_for(run).status == "succeeded"
    page = alice_page
    page.goto(f"/w/acme/runs/{run.id}/")
    expect(page.locator("#step-action-gift")).to_contain_text("condition false: input.vip == true")
    expect(page.locator("#step-action-gift .badge")).to_have_text("skipped")
    expect(page.locator("#step-action-route")).to_contain_text("default: no case's condition held")
    expect(page.locator("#step-action-review")).to_contain_text(
        "branch not taken: route chose default"
    )
    charge = page.locator("#step-action-charge")
    expect(charge.locator(".tag")).to_contain_text("handled")
    expect(charge).to_contain_text("handled by on_error[0] (card_declined): runs apologise")
    opacity = page.locator("#step-action-gift .tl-step-head").evaluate(
        "e => getComputedStyle(e).opacity"
    )
    assert float(opacity) < 1
    screenshot(page, "decisions-run-page")


def test_the_panel_checks_a_condition_as_it_is_typed(workspace, alice, alice_page, screenshot):
    _workflow(workspace, alice)
    page = alice_page
    page.goto("/w/acme/workflows/deciding/?step=5")
    when = page.locator("#f-when")
    expect(when).to_have_value("input.vip == true")
    when.fill("input.vip = true")
    expect(page.locator("#err-when")).to_contain_text("use == to compare (at column 11)")
    when.fill("input.vip == true")
    expect(page.locator("#err-when")).to_be_empty()
    page.locator("#f-after-any").check()
    screenshot(page, "decisions-builder-panel")
    page.goto("/w/acme/workflows/deciding/?step=1")
    expect(page.locator("#case-0-when")).to_have_value("steps.check.output.total > 1000")
    expect(page.locator("#f-action")).to_have_count(0)
    screenshot(page, "decisions-builder-switch")
