"""The demo's "Order approval" in the browser: its graph in the builder (a for-each, a
condition, an approval with an error route, a sub-workflow and the declined branch), a
run started from its form, approved on the run page, finishing live with its child run."""

import re

import pytest
from playwright.sync_api import expect

from builder.definition import validate
from builder.demo import ORDER_APPROVAL, SHIP_ORDER
from builder.models import Workflow
from runner.models import Run

pytestmark = pytest.mark.django_db(transaction=True)


def publish(workspace, slug, spec):
    workflow = Workflow.objects.create(
        workspace=workspace, slug=slug, name=spec["name"], draft=spec
    )
    workflow.publish(validate(spec, workspace, slug=slug))
    return workflow


def test_order_approval_drawn_run_approved_and_shipped_live(
    worker, workspace, alice_page, screenshot
):
    publish(workspace, "ship-order", SHIP_ORDER)
    workflow = publish(workspace, "order-approval", ORDER_APPROVAL)
    page = alice_page
    # The builder draws every construct as what it is
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/w/acme/workflows/order-approval/")
    for key in ("reserve", "review", "escalate", "ship", "decline"):
        expect(page.locator(f"#step-{key}")).to_be_visible()
    screenshot(page, "order-approval-builder", full_page=False)

    # A run from its form (the schema's defaults fill it) waits for an owner
    page.goto("/w/acme/workflows/order-approval/run/")
    page.locator("#start-run").click()
    expect(page).to_have_url(re.compile(r"/w/acme/runs/\d+/$"))
    run = Run.objects.get(workflow=workflow)
    review = page.locator("#step-action-review")
    expect(review.locator(".badge.s-waiting")).to_be_visible(timeout=20_000)
    expect(page.locator("#step-action-reserve")).to_contain_text("3 items")

    # Approved on the run page, it ships as a child run and succeeds, live
    review.get_by_label("Comment on review").fill("Stock checked")
    review.get_by_role("button", name="Approve").click()
    expect(page.locator("#run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    child = Run.objects.get(parent_run=run)
    expect(page.locator(f"a[href='/w/acme/runs/{child.id}/']").first).to_be_visible()
    expect(page.locator("#step-action-decline .badge.s-skipped")).to_be_visible()
    screenshot(page, "order-approval-run")
    assert child.status == "succeeded"
