"""axe-core on every page a signed-in workspace owner (a staff user) can reach by following
links from the dashboard: no serious or critical violation, in light and dark."""

import re
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from builder.definition import validate
from builder.models import Trigger, Workflow
from core.models import ApiKey, Secret
from tests.web import compensated_run, saga_steps

pytestmark = pytest.mark.django_db(transaction=True)

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
# Not ours to fix, or not a page: Django's admin, the API's docs and files, sign-out.
SKIP = ("/admin/", "/api/", "/hooks/", "/metrics", "/logout/", "/static/")
MAX_PAGES = 60


def shape(path):
    """One page per kind: /runs/7/ and /runs/8/ are the same page with other data."""
    return re.sub(r"/\d+(?=/|$)", "/N", path.split("?")[0])


@pytest.fixture
def staff_alice(alice):
    alice.is_staff = True
    alice.save()
    return alice


@pytest.fixture
def content(workspace, staff_alice):
    """Something on every page: a published workflow with a run, a webhook with a delivery,
    a secret and an API key."""
    definition = validate({"name": "Checkout", "steps": saga_steps()}, workspace)
    workflow = Workflow.objects.create(
        workspace=workspace, slug="checkout", name="Checkout", draft=definition
    )
    version = workflow.publish(definition, "first", staff_alice)
    compensated_run(workspace, workflow=workflow, workflow_version=version)
    Trigger.objects.create(workflow=workflow, token=Trigger.new_token(), name="crm")
    Secret.objects.create(workspace=workspace, name="CRM_TOKEN", value="crm-token-4242")
    ApiKey.issue(workspace, "ci")


def links(page, origin):
    # A link with `download` (a workflow's JSON) is a file, not a page.
    found = page.eval_on_selector_all("a[href]:not([download])", "(as) => as.map((a) => a.href)")
    for href in found:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" == origin and not parts.path.startswith(SKIP):
            yield parts.path + (f"?{parts.query}" if parts.query else "")


def violations(page):
    page.add_script_tag(content=AXE)
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_reachable_page_has_no_serious_violation(
    browser, browser_context_args, log_in, live_server, staff_alice, content, scheme
):
    # The Content-Security-Policy refuses injected scripts: axe is let in by the browser.
    context = browser.new_context(**browser_context_args, bypass_csp=True)
    page = log_in(context.new_page(), staff_alice)
    page.emulate_media(color_scheme=scheme)
    seen, queue, problems = set(), deque(["/w/acme/"]), {}
    try:
        while queue and len(seen) < MAX_PAGES:
            path = queue.popleft()
            if shape(path) in seen:
                continue
            seen.add(shape(path))
            try:
                page.goto(path)
            except PlaywrightError as error:
                if "Download is starting" in str(error):
                    continue  # a file (an export), not a page
                raise
            if found := violations(page):
                problems[path] = found
            queue.extend(link for link in links(page, live_server.url) if shape(link) not in seen)
    finally:
        context.close()
    assert len(seen) > 20, seen  # the crawl reached the workspace's pages
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())
