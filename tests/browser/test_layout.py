"""Every width, both themes: the dashboard, the builder and a run page at a phone's width
(390 × 844) and a laptop's (1440 × 900), light and dark as the system asks. Nothing scrolls
sideways, headings keep a contrast of at least 4.5:1 against what is behind them, and the
sidebar folds behind a menu button on a narrow screen."""

import re

import pytest
from playwright.sync_api import expect

from builder.definition import validate
from builder.models import Workflow
from tests.web import compensated_run, saga_steps

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"phone": (390, 844), "laptop": (1440, 900)}
SCHEMES = ["light", "dark"]

# The contrast ratio of WCAG 2 between a heading's colour and the first opaque background
# behind it (its own or an ancestor's), for every visible h1, h2, h3.
HEADING_CONTRASTS = """() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const colour = rgb(getComputedStyle(node).backgroundColor);
      if (colour.length === 3 || colour[3] > 0.9) return colour.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll("h1, h2, h3")]
    .filter((el) => el.offsetParent !== null && el.textContent.trim())
    .map((el) => {
      const [a, b] = [luminance(rgb(getComputedStyle(el).color)), luminance(background(el))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      return {text: el.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100};
    });
}"""


@pytest.fixture
def pages(workspace, alice):
    definition = validate({"name": "Checkout", "steps": saga_steps()}, workspace)
    workflow = Workflow.objects.create(
        workspace=workspace, slug="checkout", name="Checkout", draft=definition
    )
    version = workflow.publish(definition, "first", alice)
    run = compensated_run(workspace, workflow=workflow, workflow_version=version)
    return {
        "dashboard": "/w/acme/",
        "builder": "/w/acme/workflows/checkout/",
        "run": f"/w/acme/runs/{run.id}/",
    }


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", SIZES, ids=SIZES.keys())
def test_pages_fit_the_width_and_headings_read_in_both_themes(
    browser, browser_context_args, log_in, alice, pages, screenshot, size, scheme
):
    width, height = SIZES[size]
    context = browser.new_context(
        **{**browser_context_args, "viewport": {"width": width, "height": height}}
    )
    page = log_in(context.new_page(), alice)
    page.emulate_media(color_scheme=scheme)
    try:
        for name, path in pages.items():
            page.goto(path)
            expect(page.locator("h1").first).to_be_visible()
            screenshot(page, f"layout-{name}-{size}-{scheme}")
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], f"{name} scrolls sideways at {size}: {widths}"
            low = [h for h in page.evaluate(HEADING_CONTRASTS) if h["ratio"] < 4.5]
            assert not low, f"{name} ({size}, {scheme}): headings under 4.5:1: {low}"
    finally:
        context.close()


def test_a_narrow_screen_folds_the_sidebar_behind_a_menu_button(
    browser, browser_context_args, log_in, alice, pages
):
    context = browser.new_context(
        **{**browser_context_args, "viewport": {"width": 360, "height": 740}}
    )
    page = log_in(context.new_page(), alice)
    try:
        page.goto(pages["dashboard"])
        menu = page.get_by_role("button", name="Menu")
        nav = page.get_by_role("link", name="Workflows")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(nav).to_be_hidden()
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        nav.click()
        expect(page).to_have_url(re.compile(r"/w/acme/workflows/$"))
    finally:
        context.close()


def test_a_wide_screen_keeps_the_sidebar_and_needs_no_menu(
    browser, browser_context_args, log_in, alice, pages
):
    context = browser.new_context(
        **{**browser_context_args, "viewport": {"width": 2560, "height": 1440}}
    )
    page = log_in(context.new_page(), alice)
    try:
        page.goto(pages["dashboard"])
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        expect(page.get_by_role("link", name="Workflows")).to_be_visible()
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1]
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", SIZES, ids=SIZES.keys())
def test_the_landing_and_triggers_pages_fit_too(
    browser, browser_context_args, log_in, alice, workspace, screenshot, size, scheme
):
    from builder.models import Trigger

    width, height = SIZES[size]
    workflow = Workflow.objects.create(workspace=workspace, slug="hook", name="Hook", draft={})
    Trigger.objects.create(
        workflow=workflow, token=Trigger.new_token(), signature="timestamped", secret="whsec_x"
    )
    context = browser.new_context(
        **{**browser_context_args, "viewport": {"width": width, "height": height}}
    )
    page = context.new_page()
    page.emulate_media(color_scheme=scheme)
    try:
        for name, path, user in [
            ("landing", "/", None),
            ("triggers", "/w/acme/workflows/hook/triggers/", alice),
        ]:
            if user:
                log_in(page, user)
            page.goto(path)
            expect(page.locator("h1").first).to_be_visible()
            screenshot(page, f"layout-{name}-{size}-{scheme}")
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], f"{name} scrolls sideways at {size}: {widths}"
            low = [h for h in page.evaluate(HEADING_CONTRASTS) if h["ratio"] < 4.5]
            assert not low, f"{name} ({size}, {scheme}): headings under 4.5:1: {low}"
    finally:
        context.close()
