"""The demo's "Order approval" built from an empty workflow with the builder alone: once
with the mouse (drags from the palette, a drawn edge, the panel's fields and reference
chips), once with the keyboard only (Add buttons, the Connect dialog, Tab and Enter). Each
is published, run from its form, approved on the run page and watched finishing live; its
published definition must be the demo's (builder/demo.py) in every field that matters."""

import json
import re

import pytest
from playwright.sync_api import expect

from builder.definition import validate
from builder.demo import ORDER_APPROVAL, SHIP_ORDER
from builder.models import Workflow
from runner.models import Run
from tests.browser.test_builder import (
    canvas_ready,
    connect_by_keyboard,
    drag_action,
    draw_edge,
    edited,
    press,
    tab_to,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = {step["key"]: step for step in ORDER_APPROVAL["steps"]}
# What a person types into the panel: the demo's texts, as JSON where the field is JSON.
SCHEMA = json.dumps(ORDER_APPROVAL["input_schema"])


def as_json(value):
    return json.dumps(value)


# ---- The comparison -------------------------------------------------------------------

COMPARED = (
    "name", "type", "action", "input", "for_each", "max_concurrency", "compensate", "role",
    "timeout_s", "on_timeout", "when", "after_any", "on_error", "workflow", "version",
)  # fmt: skip


def essentials(definition, workspace):
    """The validated definition's steps, keyed, with the fields that decide what a run does
    (`after` as a set: its order means nothing)."""
    normalized = validate(definition, workspace, slug="order-approval")
    steps = {}
    for step in normalized["steps"]:
        kept = {field: step.get(field) for field in COMPARED}
        kept["after"] = sorted(step.get("after") or [])
        steps[step["key"]] = kept
    top = {field: normalized.get(field) for field in ("name", "description", "input_schema")}
    return top, steps


def assert_is_the_demo(workflow, workspace):
    built = workflow.versions.order_by("-number").first().definition
    assert essentials(built, workspace) == essentials(ORDER_APPROVAL, workspace)


def publish_ship_order(workspace):
    """The child workflow is a workflow of its own; these tests build its parent."""
    child = Workflow.objects.create(
        workspace=workspace, slug="ship-order", name=SHIP_ORDER["name"], draft=SHIP_ORDER
    )
    child.publish(validate(SHIP_ORDER, workspace, slug="ship-order"))


# ---- Page helpers ---------------------------------------------------------------------


def autosaved(page):
    """The panel's autosave is done and the canvas it answered with is drawn."""
    expect(page.locator("#builder")).to_have_attribute("data-saving", "false")
    wait_until(page, "!document.querySelector('#builder .htmx-request')")
    canvas_ready(page)


def fill(page, selector, text):
    """Click a panel field and type into it (what autosave hears is what a person types)."""
    field = page.locator(selector)
    field.click()
    field.fill(text)
    autosaved(page)


def insert_reference(page, field, before, ref, after=""):
    """Write `before` into `field`, click the reference chip `ref`, then type `after`."""
    page.locator(field).click()
    page.locator(field).fill(before)
    page.locator(f"#panel [data-insert-ref='{ref}']").click()
    page.keyboard.type(after)
    autosaved(page)


def open_step(page, key):
    edited(page, lambda: page.locator(f"#step-{key}-edit").click())
    expect(page.locator("#panel-key")).to_have_text(key)


def rerendered(page, action):
    """Do `action` (a select that saves on its own), then wait for the new panel."""
    edited(page, action)
    autosaved(page)


# ---- The mouse ------------------------------------------------------------------------


def test_build_order_approval_with_the_mouse_run_and_approve_it(
    worker, workspace, alice, alice_page, screenshot
):
    publish_ship_order(workspace)
    page = alice_page
    # Given alice creates the workflow from the list
    page.goto("/w/acme/workflows/")
    page.get_by_role("button", name="+ New workflow").click()
    page.get_by_label("Name").fill("Order approval")
    page.get_by_role("button", name="Create and open the builder").click()
    expect(page).to_have_url("/w/acme/workflows/order-approval/")
    page.evaluate("window.__sameDocument = true")
    canvas_ready(page)
    # And describes it and its run input in the workflow's settings
    fill(page, "#s-description", ORDER_APPROVAL["description"])
    fill(page, "#s-schema", SCHEMA)

    # When she drops an action on the empty canvas: each order line is reserved
    drag_action(page, "debug.echo", page.locator("#canvas [data-graph-viewport]"))
    fill(page, "#f-key", "reserve")
    fill(page, "#f-name", DEMO["reserve"]["name"])
    fill(page, "#f-input", as_json(DEMO["reserve"]["input"]))
    insert_reference(page, "#f-for-each", "", "input.lines")
    fill(page, "#f-max-concurrency", "2")
    rerendered(page, lambda: page.locator("#f-comp-action").select_option("debug.echo@1"))
    fill(page, "#f-comp-input", as_json(DEMO["reserve"]["compensate"]["input"]))

    # And drops an approval onto it: a person decides orders of 100 or more
    drag_action(page, "approval", page.locator("#step-reserve-edit"))
    fill(page, "#f-key", "review")
    fill(page, "#f-name", DEMO["review"]["name"])
    page.locator("#f-role").select_option("owner")
    autosaved(page)
    fill(page, "#f-wait-timeout", "86400")
    page.locator("#f-on-timeout").select_option("fail")
    fill(page, "#f-when", DEMO["review"]["when"])

    # And drops three steps onto the approval (each lands right after it): the declined
    # branch, the sub-workflow that ships, and what a timeout escalates to
    drag_action(page, "debug.echo", page.locator("#step-review-edit"))
    fill(page, "#f-key", "decline")
    fill(page, "#f-name", DEMO["decline"]["name"])
    insert_reference(
        page,
        "#f-input",
        '{"declined": "',
        "input.order_id",
        ': {{ steps.review.output.comment }}"}',
    )
    fill(page, "#f-when", DEMO["decline"]["when"])

    drag_action(page, "workflow", page.locator("#step-review-edit"))
    rerendered(page, lambda: page.locator("#f-workflow").select_option("ship-order"))
    fill(page, "#f-key", "ship")
    fill(page, "#f-name", DEMO["ship"]["name"])
    insert_reference(page, "#f-input", '{"order_id": ', "input.order_id", "}")
    fill(page, "#f-when", DEMO["ship"]["when"])
    page.locator("#f-after-any").check()
    autosaved(page)
    # (it also waits for the reservations: an edge drawn from reserve's handle)
    draw_edge(page, "reserve", "ship")

    drag_action(page, "debug.echo", page.locator("#step-review-edit"))
    fill(page, "#f-key", "escalate")
    fill(page, "#f-name", DEMO["escalate"]["name"])
    fill(page, "#f-input", as_json(DEMO["escalate"]["input"]))
    # And routes the approval's timeout to it
    open_step(page, "review")
    route = page.locator("#route-0")
    route.locator("input[value='wait_timeout']").check()
    route.locator("input[name='route-0-next'][value='escalate']").check()
    autosaved(page)

    # Then the builder draws the branches, and the draft is valid
    expect(page.locator("#draft-valid")).to_be_visible()
    expect(page.locator("#canvas .gedge.kind-error")).to_have_count(1)
    expect(page.locator("#step-review .chip.cond")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "order-approval-built-mouse", full_page=False)

    # When she publishes it and runs it from its form
    page.get_by_role("button", name="Publish…").click()
    page.get_by_role("button", name="Publish v1").click()
    expect(page.locator(".messages")).to_contain_text("as v1")
    workflow = Workflow.objects.get(workspace=workspace, slug="order-approval")
    assert_is_the_demo(workflow, workspace)
    page.get_by_role("link", name="Run", exact=True).click()
    page.get_by_label("order_id").fill("A-2002")
    page.get_by_role("button", name="Start the run").click()
    run = approve_and_watch(page, workflow, screenshot, "order-approval-run-mouse")
    assert run.input["order_id"] == "A-2002"


# Marks the document, and records each run graph node's change of state in it.
OBSERVE_STATES = """window.__sameDocument = true; window.__seen = [];
new MutationObserver(changes => changes.forEach(c => window.__seen.push(
    c.target.dataset.key + ':' + c.target.dataset.state)))
  .observe(document.getElementById('run-graph'),
           {subtree: true, attributes: true, attributeFilter: ['data-state']});"""


def approve_and_watch(page, workflow, screenshot, name, keys=False):
    """On the run page: wait for the approval, approve it with a comment, and watch the run
    (its graph and its timeline) reach succeeded without a reload. Returns the run."""
    expect(page).to_have_url(re.compile(r"/w/acme/runs/\d+/$"))
    run = Run.objects.get(workflow=workflow)
    review = page.locator("#step-action-review")
    expect(review.locator(".badge.s-waiting")).to_be_visible(timeout=20_000)
    page.reload()  # as if she came from "Waiting for me": the sidebar counts the approval
    page.evaluate(OBSERVE_STATES)
    expect(page.locator("#nav-pages a[href$='/waiting/'] .count")).to_have_text("1")
    expect(page.locator("#rg-review")).to_have_attribute("data-state", "waiting")
    expect(page.locator("#step-action-reserve")).to_contain_text("3 items")
    if keys:
        tab_to(page, "#comment-review")
        page.keyboard.type("Stock checked")
        page.keyboard.press("Tab")  # to Approve
        page.keyboard.press("Enter")
    else:
        review.get_by_label("Comment on review").fill("Stock checked")
        review.get_by_role("button", name="Approve").click()
    expect(review).to_contain_text("approved")
    # (the sidebar's "Waiting for me" count goes with it)
    expect(page.locator("#nav-pages a[href$='/waiting/'] .count")).to_have_count(0)
    expect(page.locator("#run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    expect(page.locator("#rg-ship")).to_have_attribute("data-state", "succeeded")
    expect(page.locator("#rg-decline")).to_have_attribute("data-state", "skipped")
    expect(page.locator("#step-action-decline .badge.s-skipped")).to_be_visible()
    expect(review).to_contain_text(re.compile(r"approved by alice at .*Stock checked"))
    assert "ship:succeeded" in page.evaluate("window.__seen")
    assert page.evaluate("window.__sameDocument") is True
    child = Run.objects.get(parent_run=run)
    expect(page.locator(f"a[href='/w/acme/runs/{child.id}/']").first).to_be_visible()
    # (the toast that says so came live too; dismissed, and the page at its top, for the picture)
    toast = page.locator("#toasts .toast.s-succeeded")
    expect(toast).to_contain_text(f"Run #{run.id} succeeded.")
    toast.get_by_role("button", name="Dismiss").click()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)
    run.refresh_from_db()
    assert child.status == "succeeded" and run.status == "succeeded"
    return run


# ---- The keyboard ---------------------------------------------------------------------


def type_into(page, selector, text):
    """Tab to a field, select what it holds and type `text` over it."""
    tab_to(page, selector)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(text)
    autosaved(page)


def choose(page, selector, value, limit=12):
    """Tab to a select and press the arrow keys until it shows `value`."""
    tab_to(page, selector)
    for _ in range(limit):
        if page.locator(selector).input_value() == value:
            autosaved(page)
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{selector} never showed {value!r}")


def add_by_keyboard(page, name, key):
    """Press the palette's Add button of `name`, then rename the new step to `key`."""
    tab_to(page, f"[data-add-action^='{name}']")
    press(page, "Enter")
    canvas_ready(page)
    type_into(page, "#f-key", key)
    expect(page.locator(f"#step-{key}")).to_be_visible()


def reference_by_keyboard(page, field, before, ref, after):
    """Type `before` into `field`, Tab to the chip `ref`, press Enter, then type `after`."""
    type_into(page, field, before)
    tab_to(page, f"#panel [data-insert-ref='{ref}']")
    page.keyboard.press("Enter")
    page.keyboard.type(after)
    autosaved(page)


def test_build_order_approval_with_the_keyboard_run_and_approve_it(
    worker, workspace, alice, alice_page, screenshot
):
    publish_ship_order(workspace)
    page = alice_page
    # Given alice creates the workflow from the list, from the keyboard
    page.goto("/w/acme/workflows/")
    tab_to(page, "[data-open-dialog='new-workflow']")
    page.keyboard.press("Enter")
    tab_to(page, "#new-workflow input[name=name]")
    page.keyboard.type("Order approval")
    tab_to(page, "#new-workflow button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url("/w/acme/workflows/order-approval/")
    page.evaluate("window.__sameDocument = true")
    canvas_ready(page)
    type_into(page, "#s-description", ORDER_APPROVAL["description"])
    type_into(page, "#s-schema", SCHEMA)

    # When she adds the five steps with the palette's Add buttons (each after the last)
    # and fills each one's panel
    add_by_keyboard(page, "debug.echo", "reserve")
    type_into(page, "#f-name", DEMO["reserve"]["name"])
    type_into(page, "#f-input", as_json(DEMO["reserve"]["input"]))
    choose(page, "#f-comp-action", "debug.echo@1")
    type_into(page, "#f-comp-input", as_json(DEMO["reserve"]["compensate"]["input"]))
    type_into(page, "#f-for-each", "{{ input.lines }}")
    type_into(page, "#f-max-concurrency", "2")

    add_by_keyboard(page, "flow:approval", "review")
    type_into(page, "#f-name", DEMO["review"]["name"])
    choose(page, "#f-role", "owner")
    type_into(page, "#f-wait-timeout", "86400")
    type_into(page, "#f-when", DEMO["review"]["when"])

    add_by_keyboard(page, "debug.echo", "escalate")
    type_into(page, "#f-name", DEMO["escalate"]["name"])
    type_into(page, "#f-input", as_json(DEMO["escalate"]["input"]))

    add_by_keyboard(page, "flow:workflow", "ship")
    type_into(page, "#f-name", DEMO["ship"]["name"])
    tab_to(page, "#f-workflow")
    press(page, "ArrowDown")  # the select saves on its own and redraws the panel
    canvas_ready(page)
    expect(page.locator("#f-workflow")).to_have_value("ship-order")
    reference_by_keyboard(page, "#f-input", '{"order_id": ', "input.order_id", "}")
    type_into(page, "#f-when", DEMO["ship"]["when"])
    tab_to(page, "#f-after-any")
    page.keyboard.press("Space")
    autosaved(page)

    add_by_keyboard(page, "debug.echo", "decline")
    type_into(page, "#f-name", DEMO["decline"]["name"])
    reference_by_keyboard(
        page,
        "#f-input",
        '{"declined": "',
        "input.order_id",
        ': {{ steps.review.output.comment }}"}',
    )
    type_into(page, "#f-when", DEMO["decline"]["when"])

    # And rewires them from the Connect dialogs (C): ship waits for the reservations and the
    # approval, decline for the approval; escalate is what the approval's timeout runs
    connect_by_keyboard(page, "ship", "unlink-escalate-ship")
    connect_by_keyboard(page, "ship", "pick-after-reserve")
    connect_by_keyboard(page, "ship", "pick-after-review")
    connect_by_keyboard(page, "decline", "unlink-ship-decline")
    connect_by_keyboard(page, "decline", "pick-after-review")
    tab_to(page, "#step-review-edit")
    press(page, "Enter")
    expect(page.locator("#panel-key")).to_have_text("review")
    tab_to(page, "#route-0 input[value='wait_timeout']")
    page.keyboard.press("Space")
    tab_to(page, "#route-0 input[name='route-0-next'][value='escalate']")
    page.keyboard.press("Space")
    autosaved(page)

    # Then the builder draws the branches, and the draft is valid
    expect(page.locator("#draft-valid")).to_be_visible()
    expect(page.locator("#step-ship-deps")).to_contain_text("Runs after reserve, review.")
    expect(page.locator("#canvas .gedge.kind-error")).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "order-approval-built-keyboard", full_page=False)

    # When she publishes it and runs it, all from the keyboard
    tab_to(page, "#publish-button")
    page.keyboard.press("Enter")
    tab_to(page, "#publish-dialog button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("as v1")
    workflow = Workflow.objects.get(workspace=workspace, slug="order-approval")
    assert_is_the_demo(workflow, workspace)
    tab_to(page, "#run-button")
    page.keyboard.press("Enter")
    expect(page).to_have_url("/w/acme/workflows/order-approval/run/")
    type_into_run_form(page, "input[name=input-order_id]", "A-3003")
    tab_to(page, "#start-run")
    page.keyboard.press("Enter")
    run = approve_and_watch(page, workflow, screenshot, "order-approval-run-keyboard", keys=True)
    assert run.input["order_id"] == "A-3003"


def type_into_run_form(page, selector, text):
    tab_to(page, selector)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(text)
