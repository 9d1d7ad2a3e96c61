"""A for-each of 120 items in a real browser: the run page sums its items up by status,
the items page pages through them and filters the failed ones; the builder draws the
step as a stack with its "× N" badge."""

import pytest
from playwright.sync_api import expect

from builder.definition import validate
from builder.models import Workflow
from runner import executor
from runner.models import Attempt
from tests.runs import start

# They drive the attempts themselves (tests/conftest.py `no_messages`).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_messages")]

EACH = {
    "key": "charge",
    "action": "debug.fail",
    "for_each": "{{ input.orders }}",
    "max_concurrency": 10,
    "on_item_failure": "collect",
    "retry": {"max_attempts": 1},
    "input": {"fail_times": "{{ item.fail }}", "message": "card {{ item.card }} declined"},
}


def _run_every_attempt(run):
    """Driven in-process, one attempt after the other (tests/runner/test_for_each_pages.py)."""
    while attempt := Attempt.objects.filter(run=run, status="scheduled").first():
        executor.execute_attempt(attempt.id, "browser-test", send=lambda dispatches: None)


def test_the_items_of_a_for_each_page_by_page(alice_page, workspace, screenshot):
    orders = [{"card": f"c{n}", "fail": -1 if n % 40 == 3 else 0} for n in range(120)]
    run = start(workspace, [EACH], {"orders": orders})
    _run_every_attempt(run)
    page = alice_page
    page.goto(f"/w/acme/runs/{run.id}/")
    summary = page.locator("#items-charge")
    expect(summary).to_contain_text("× 120 items")
    expect(summary.locator('[data-items="succeeded"]')).to_have_text("117 succeeded")
    expect(summary.locator('[data-items="failed"]')).to_have_text("3 failed")
    expect(page.locator(".gnode.for-each")).to_contain_text("× 10 at once")
    screenshot(page, "for_each_run_page")

    summary.get_by_role("link", name="View items").click()
    expect(page.locator("h1")).to_contain_text("Items of charge")
    expect(page.locator("#items tbody tr")).to_have_count(50)
    expect(page.locator("#page-label")).to_have_text("Page 1 of 3")
    expect(page.locator("#item-3")).to_contain_text("card c3 declined")
    page.get_by_role("link", name="Next →").click()
    expect(page.locator("#page-label")).to_have_text("Page 2 of 3")
    expect(page.locator("#items tbody tr").first).to_have_id("item-50")
    screenshot(page, "for_each_items_page")

    page.locator('#item-filters a[data-status="failed"]').click()
    rows = page.locator("#items tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_id("item-3")
    expect(rows.nth(2)).to_have_id("item-83")
    expect(page.locator(".run-error")).to_have_text("3 of 120 items failed: 3, 43, 83")
    screenshot(page, "for_each_items_failed")


def test_the_builder_draws_a_for_each_as_a_stack(alice_page, workspace, screenshot):
    steps = [
        {"key": "fetch", "action": "debug.echo"},
        {**EACH, "for_each": "{{ steps.fetch.output.orders }}"},
    ]
    definition = validate({"name": "Charge", "steps": steps}, workspace)
    Workflow.objects.create(workspace=workspace, name="Charge", slug="charge", draft=definition)
    page = alice_page
    page.goto("/w/acme/workflows/charge/?step=1")
    node = page.locator(".gnode.for-each")
    expect(node).to_have_count(1)
    expect(node).to_contain_text("× 10 at once")
    expect(page.locator("#f-for-each")).to_have_value("{{ steps.fetch.output.orders }}")
    expect(page.locator("#f-on-item-failure")).to_have_value("collect")
    expect(page.locator('[data-insert-ref="item_index"]')).to_have_count(1)
    screenshot(page, "for_each_builder")


def _node_count_text(run):
    """What the graph node should say: the items that ended, of all, and the failures."""
    items = run.steps.filter(kind="item")
    ended = items.filter(status__in=["succeeded", "failed", "skipped"]).count()
    failed = items.filter(status="failed").count()
    return f"{ended}/{items.count()}" + (f" · {failed} failed" if failed else "")


def test_the_graph_node_of_a_for_each_counts_its_items_live(alice_page, workspace, screenshot):
    # Given a for-each of 30 items, 5 at a time, of which items 3 and 23 fail, not yet run
    orders = [{"card": f"c{n}", "fail": -1 if n % 20 == 3 else 0} for n in range(30)]
    run = start(workspace, [{**EACH, "max_concurrency": 5}], {"orders": orders})
    page = alice_page
    page.goto(f"/w/acme/runs/{run.id}/")
    count = page.locator("#rg-charge-state [data-items-done]")
    expect(count).to_have_text("0/30")
    # When a dozen items have ended, the page polling as it does
    while run.steps.filter(kind="item", status__in=["succeeded", "failed"]).count() < 12:
        attempt = Attempt.objects.filter(run=run, status="scheduled").first()
        executor.execute_attempt(attempt.id, "browser-test", send=lambda dispatches: None)
    middle = _node_count_text(run)
    assert middle.endswith(" · 1 failed")
    # Then the node says so, without a reload, still running
    expect(count).to_have_text(middle)
    expect(page.locator("#rg-charge")).to_have_attribute("data-state", "running")
    expect(page.locator("#rg-charge-state .sr-only")).to_contain_text("items ended, 1 failed")
    screenshot(page, "for_each_node_live", full_page=False)
    # And when every item has ended, it counts them all
    _run_every_attempt(run)
    expect(count).to_have_text("30/30 · 2 failed")
    expect(page.locator("#rg-charge")).to_have_attribute("data-state", "failed")
