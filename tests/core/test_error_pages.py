"""404, 403, 500 and CSRF failures answer with the product's own pages (no traceback, a
way back to the dashboard), and with the JSON error shape under /api/; DEBUG is off."""

import pytest
from django.db import OperationalError, connection
from django.test import Client

from core.models import ApiKey
from tests.api import error_of

pytestmark = pytest.mark.django_db
DASHBOARD_LINK = 'href="/">Back to the dashboard</a>'


@pytest.fixture(autouse=True)
def failing_views(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.core.error_urls"


def anonymous():
    return Client(raise_request_exception=False)


def assert_product_page(response, status, heading):
    body = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert heading in body and DASHBOARD_LINK in body
    assert "/static/css/app.css" in body
    for leak in ("Traceback", "a detail only the log may see", "RuntimeError", "csrf_token"):
        assert leak not in body


def test_an_exception_in_a_view_gets_the_500_page():
    response = anonymous().get("/test-errors/boom")
    assert_product_page(response, 500, "Something went wrong on our side")


def test_an_unknown_address_gets_the_404_page(alice):
    client = anonymous()
    client.force_login(alice)
    assert_product_page(client.get("/no/such/page"), 404, "This page does not exist")


def test_a_refused_action_gets_the_403_page():
    assert_product_page(anonymous().get("/test-errors/forbidden"), 403, "You cannot do that here")


def test_a_form_without_its_csrf_token_gets_the_expired_form_page(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/workspaces/new/", {"name": "Sneaky"})
    assert_product_page(response, 403, "This form has expired")


def test_the_api_keeps_its_json_shape_for_404_and_500(workspace):
    client = anonymous()
    headers = {"Authorization": f"Bearer {ApiKey.issue(workspace, 'errors')[1]}"}
    missing = client.get("/api/v1/no/such/thing", headers=headers)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    broken = client.get("/api/v1/test-errors/boom", headers=headers)
    assert broken.status_code == 500 and error_of(broken)["code"] == "internal"
    assert "a detail only the log may see" not in broken.content.decode()


def database_down(execute, sql, params, many, context):
    """Every query fails as it does when the database server has gone away."""
    raise OperationalError("connection to server failed: Connection refused")


def test_the_500_page_and_the_api_answer_while_the_database_is_down(alice, workspace):
    # Given a signed-in user and an API key, and then a database that stops answering
    browser = anonymous()
    browser.force_login(alice)
    headers = {"Authorization": f"Bearer {ApiKey.issue(workspace, 'down')[1]}"}
    with connection.execute_wrapper(database_down):
        # When a page and an API call need it
        page = browser.get("/w/acme/")
        api = browser.get("/api/v1/runs", headers=headers)
    # Then the page is the product's 500 page, drawn without the database, and the API's
    # answer is its JSON error
    assert_product_page(page, 500, "Something went wrong on our side")
    assert api.status_code == 500 and error_of(api)["code"] == "internal"
