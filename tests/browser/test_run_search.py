"""The runs list's input search and export links in a browser: a search narrows the list
live, bad text is a form error, the export links carry the filters."""

import re

import pytest
from playwright.sync_api import expect

from runner.models import Run

pytestmark = pytest.mark.django_db(transaction=True)


def test_search_runs_by_input(workspace, alice, alice_page, screenshot):
    page = alice_page
    for customer in (41, 42, 42, 43):
        Run.objects.create(
            workspace=workspace,
            definition={"name": "Orders", "steps": []},
            input={"customer_id": customer},
            status="succeeded",
        )
    page.goto("/w/acme/runs/")
    expect(page.locator("#results tbody tr")).to_have_count(4)
    search = page.get_by_label("Input")
    search.fill("input.customer_id = 42")
    search.press("Enter")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    csv = page.get_by_role("link", name="CSV")
    expect(csv).to_have_attribute(
        "href", re.compile(r"q=input\.customer_id\+%3D\+42&.*format=csv$")
    )
    screenshot(page, "runs-search")
    search.fill("input.customer_id = 42 or 1=1")
    search.press("Enter")
    expect(page.get_by_text("Join conditions with and")).to_be_visible()
    screenshot(page, "runs-search-error")
