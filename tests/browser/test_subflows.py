"""Sub-workflows in a real browser: the parent's run page links its child with a live
status and the child links back; the builder draws the step double-bordered with the
child workflow's name and picks the workflow from the published ones."""

import pytest
from playwright.sync_api import expect

from builder.definition import validate
from builder.models import Workflow
from runner import launch
from runner.models import Run
from tests.runs import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PARENT = [
    {"key": "order", "action": "debug.echo", "input": {"id": 7}},
    {
        "key": "ship",
        "type": "workflow",
        "workflow": "shipping",
        "input": {"order": "{{ steps.order.output.id }}"},
    },
]


def _publish(workspace, slug, name, steps):
    definition = validate({"name": name, "steps": steps}, workspace, slug)
    workflow = Workflow.objects.create(workspace=workspace, slug=slug, name=name, draft=definition)
    return workflow, workflow.publish(definition)


def test_parent_and_child_link_each_other_with_live_status(
    worker, workspace, alice, alice_page, screenshot
):
    _publish(
        workspace,
        "shipping",
        "Shipping",
        [{"key": "pack", "action": "debug.sleep", "input": {"ms": 6000}}],
    )
    workflow, version = _publish(workspace, "order", "Order", PARENT)
    run = launch.start_run(
        workspace=workspace,
        definition=version.definition,
        input={},
        workflow=workflow,
        workflow_version=version,
        user=alice,
    )
    page = alice_page
    page.goto(f"/w/acme/runs/{run.id}/")
    child_row = page.locator("#run-family .child-run")
    expect(child_row).to_contain_text("Step ship runs")
    expect(child_row.locator(".badge")).to_have_text("running")
    expect(page.locator("#run-graph .gnode.type-workflow")).to_contain_text("Shipping · latest")
    expect(child_row.locator(".badge")).to_have_text("succeeded")  # the live poll
    expect(page.locator("#run-status")).to_have_text("succeeded")
    screenshot(page, "subflow_parent_run")
    child = Run.objects.get(parent_run=run)
    child_row.locator("a.child-run-link").click()
    expect(page).to_have_url(f"{page.url.split('/w/')[0]}/w/acme/runs/{child.id}/")
    parent_link = page.locator("#parent-run")
    expect(parent_link).to_contain_text(f"Child run of run #{run.id} · Order, step ship")
    expect(parent_link.locator(".badge")).to_have_text("succeeded")
    screenshot(page, "subflow_child_run")
    assert wait_for(run).status == "succeeded"


def test_the_builder_draws_and_edits_a_sub_workflow_step(workspace, alice_page, screenshot):
    _publish(workspace, "shipping", "Shipping", [{"key": "pack", "action": "debug.echo"}])
    _publish(workspace, "billing", "Billing", [{"key": "bill", "action": "debug.echo"}])
    Workflow.objects.create(workspace=workspace, slug="order", name="Order", draft={
        "name": "Order", "steps": PARENT,
    })  # fmt: skip
    page = alice_page
    page.goto("/w/acme/workflows/order/?step=1")
    node = page.locator(".gnode.type-workflow")
    expect(node).to_contain_text("Shipping · latest")
    style = node.evaluate("e => getComputedStyle(e).borderTopStyle")
    assert style == "double"
    select = page.locator("#f-workflow")
    expect(select).to_have_value("shipping")
    options = select.locator("option").all_inner_texts()
    assert options == ["Billing (billing)", "Shipping (shipping)"]  # published, not itself
    select.select_option("billing")
    expect(page.locator(".gnode.type-workflow")).to_contain_text("Billing · latest")
    screenshot(page, "subflow_builder")
    draft = Workflow.objects.get(slug="order").draft
    assert draft["steps"][1]["workflow"] == "billing"
