"""Playwright in Debian's Chromium against a live server, with the personas logged in.

Fixtures (the personas come from tests/personas.py through tests/conftest.py):
- `alice` (owner of `workspace`, slug "acme"), `bob` (viewer there), `charlie` (owner of
  `other_workspace`, slug "globex"), `erin` (editor of acme); password `tests.personas.PASSWORD`.
- `log_in(page, user)`: gives `page` a session of `user` (no form round trip); returns page.
- `page_as(user)`: a new page in its own browser context, logged in as `user`.
- `alice_page`: `page_as(alice)`.
- `url(path)`: the live server's absolute URL of `path`.
- `screenshot(page, name, full_page=True)`: a PNG in tests/screenshots/ (ignored by git).

Tests here need `pytest.mark.django_db(transaction=True)`: the live server's thread sees
committed rows only.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
# A page answers in milliseconds, but a machine with two cores running the live server,
# a worker and Chromium at once can take seconds: assertions wait up to 15 s for it.
expect.set_options(timeout=15_000)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    # A laptop screen; every relative page.goto() goes to the live server.
    return {
        **browser_context_args,
        "base_url": live_server.url,
        "viewport": {"width": 1440, "height": 900},
    }


@pytest.fixture
def url(live_server):
    return lambda path: live_server.url + path


@pytest.fixture
def log_in(live_server):
    def log_in(page, user):
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        return page

    return log_in


@pytest.fixture
def page_as(browser, browser_context_args, log_in):
    contexts = []

    def page_as(user):
        context = browser.new_context(**browser_context_args)
        contexts.append(context)
        return log_in(context.new_page(), user)

    yield page_as
    for context in contexts:
        context.close()


@pytest.fixture
def alice_page(page_as, alice):
    return page_as(alice)


@pytest.fixture
def screenshot():
    def screenshot(page, name, full_page=True):
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return screenshot
