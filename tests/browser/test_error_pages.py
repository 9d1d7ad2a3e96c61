"""The 404 and 500 pages in a real browser: the product's look, and a way back."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failing_views(settings):
    settings.ROOT_URLCONF = "tests.core.error_urls"


@pytest.mark.parametrize(
    "path, heading, name",
    [
        ("/no/such/page", "This page does not exist", "error-404"),
        ("/test-errors/boom", "Something went wrong on our side", "error-500"),
    ],
)
def test_an_error_page_leads_back_to_the_dashboard(
    failing_views, alice_page, screenshot, path, heading, name
):
    page = alice_page
    response = page.goto(path)
    assert response.status == int(name[-3:])
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Traceback")
    screenshot(page, name, full_page=False)
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page).to_have_url(re.compile(r"/w/acme/$"))
