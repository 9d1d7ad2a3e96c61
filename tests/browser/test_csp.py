"""Every main page under the Content-Security-Policy: no inline script anywhere, so the
browser reports no violation, and the pages still work (htmx swaps, dialogs, the builder).
"""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from builder.definition import validate
from builder.models import Trigger, Workflow
from core.models import Secret
from tests.web import compensated_run, succeeded_run

pytestmark = pytest.mark.django_db(transaction=True)

# Collects what the browser reports, from before any script of the page runs.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline")
    + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""
STEPS = [
    {"key": "greet", "action": "debug.echo", "input": {"hello": "{{ input.name }}"}},
    {"key": "bye", "action": "debug.echo", "input": {}},
]


@pytest.fixture
def watched(alice_page):
    """Alice's page, with every CSP violation, console error and page error collected."""
    page = alice_page
    page.problems = []
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda message: (
            message.type in ("error", "warning")
            and page.problems.append(f"console {message.type}: {message.text}")
        ),
    )
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    return page


def violations(page):
    return page.evaluate("window.__violations || []") + page.problems


@pytest.fixture
def everything(workspace, alice):
    workflow = Workflow.objects.create(
        workspace=workspace, slug="signup", name="Signup", draft={"steps": STEPS}
    )
    workflow.publish(validate({"steps": STEPS}, workspace))
    Trigger.objects.create(workflow=workflow, token=Trigger.new_token())
    Secret.set(workspace, "CRM_TOKEN", "sk_live_not_shown")
    return {"failed": compensated_run(workspace, user=alice), "ok": succeeded_run(workspace)}


def test_every_main_page_sends_the_policy_and_breaks_none_of_it(everything, watched):
    page = watched
    failed = everything["failed"]
    pages = [
        "/w/acme/",
        "/w/acme/workflows/",
        "/w/acme/workflows/signup/",
        "/w/acme/workflows/signup/versions/",
        "/w/acme/workflows/signup/import/",
        "/w/acme/workflows/signup/run/",
        "/w/acme/workflows/signup/triggers/",
        "/w/acme/runs/",
        f"/w/acme/runs/{failed.id}/",
        f"/w/acme/runs/{failed.id}/rerun",
        "/w/acme/failures/",
        "/w/acme/actions/",
        "/w/acme/actions/debug.fail/",
        "/w/acme/actions/debug.fail/run",
        "/w/acme/actions/new/http",
        "/w/acme/secrets/",
        "/w/acme/api-keys/",
        "/w/acme/members/",
        "/workspaces/new/",
        "/api/v1/docs",
    ]
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert (
            "script-src 'self';" in policy
            and "unsafe-inline' " not in policy.split("style-src-attr")[0]
        ), path
        page.wait_for_load_state("networkidle")
        assert violations(page) == [], path


def test_the_sign_in_page_and_the_admin_too(page, live_server):
    page.problems = []
    page.add_init_script(LISTEN)
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    User.objects.create_superuser("root", password="a-long-admin-password")
    for path in ("/login/", "/signup/", "/admin/login/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert violations(page) == [], path
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("a-long-admin-password")
    page.get_by_role("button", name="Log in").click()
    for path in ("/admin/", "/admin/core/workspace/add/", "/admin/runner/run/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert violations(page) == [], path


def settled(page):
    """htmx has swapped and settled the last answer: the new cards listen again."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def test_the_pages_still_work_under_the_policy(everything, watched):
    page = watched
    # The builder: a step card opens its panel by click and by keyboard (no eval'd filter)
    page.goto("/w/acme/workflows/signup/")
    page.locator("#step-greet-edit").click()
    expect(page.locator("#panel-key")).to_have_text("greet")
    settled(page)
    page.locator("#step-bye-edit").press("Enter")
    expect(page.locator("#panel-key")).to_have_text("bye")
    settled(page)
    page.locator("#step-greet-edit").press(" ")
    expect(page.locator("#panel-key")).to_have_text("greet")
    # Choosing another action saves the step once, with no autosave of the form behind it
    page.locator("#f-action").select_option("debug.fail@1")
    expect(page.locator("#f-action")).to_have_value("debug.fail@1")
    # A dialog opens (data-open-dialog, app.js)
    page.goto(f"/w/acme/runs/{everything['failed'].id}/")
    expect(page.locator(".tl-step").first).to_be_visible()
    page.goto("/w/acme/secrets/")
    assert violations(page) == []


def test_no_template_has_inline_script_handlers_or_style_elements():
    """The policy's promise, kept at the source: scripts live in static/js/."""
    import re
    from pathlib import Path

    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\bhx-on|javascript:|<style\b|hx-vals=.js:",
        re.IGNORECASE,
    )
    templates = Path(__file__).resolve().parents[2] / "templates"
    found = [
        f"{path.relative_to(templates)}: {match.group(0)}"
        for path in sorted(templates.rglob("*.html"))
        for match in inline.finditer(path.read_text())
    ]
    assert found == []
