"""Live lists in a real browser: runs started through the API appear on the runs page and
turn succeeded or failed, a failure reaches the inbox (its list, its groups and the
sidebar's count) and a signed webhook reaches the triggers page, all without a reload;
polling stops while the tab is hidden. A real worker runs the runs."""

import re
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from builder.definition import validate
from builder.models import Trigger, Workflow
from builder.signatures import sign_timestamped
from core.client import Brickwork
from core.models import ApiKey
from tests.runs import start

pytestmark = pytest.mark.django_db(transaction=True)
NEWS = "#live-news"
SECRET = "whsec_0123456789abcdef0123"


@pytest.fixture
def brickwork(workspace, live_server):
    _, raw = ApiKey.issue(workspace, "live lists")
    return Brickwork(api_key=raw, base_url=live_server.url)


def mark_document(page):
    """A flag that a reload would lose: the page must keep it to the end."""
    page.evaluate("window.neverReloaded = true")


def assert_never_reloaded(page):
    assert page.evaluate("window.neverReloaded === true")


def row(page, run_id):
    return page.locator(f"#run-row-{run_id}")


def test_runs_appear_and_finish_on_the_runs_page(
    worker, workspace, alice_page, brickwork, screenshot
):
    page = alice_page
    page.goto("/w/acme/runs/")
    expect(page.get_by_text("No runs match")).to_be_visible()
    mark_document(page)
    # When runs start elsewhere (the API), one that succeeds and one that fails
    nap = brickwork.action("debug.sleep").run({"ms": 1500})
    broken = brickwork.action("debug.fail").run({"retryable": False, "message": "card declined"})
    # Then both appear at the top, newest first, and turn to their end in place
    expect(row(page, broken.id).locator(".badge")).to_have_text("failed")
    expect(row(page, nap.id).locator(".badge")).to_have_text("succeeded")
    ids = page.locator("#run-rows > tr").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert ids == [str(broken.id), str(nap.id)]
    expect(page.get_by_text("No runs match")).to_have_count(0)
    # A screen reader hears how many arrived, not the table again
    expect(page.locator(NEWS)).to_have_text(re.compile(r"^[12] new runs?$"))
    expect(page.locator("nav a[href$='/failures/'] .count")).to_have_text("1")
    assert_never_reloaded(page)
    screenshot(page, "live-runs", full_page=False)


def test_a_run_started_here_ends_with_a_toast_on_the_runs_page(worker, workspace, alice_page):
    page = alice_page
    page.goto("/w/acme/actions/debug.sleep/run")
    page.get_by_label("ms").fill("2500")
    page.get_by_role("button", name="Start run").click()
    expect(page).to_have_url(re.compile(r"/runs/(\d+)/$"))
    run_id = re.search(r"/runs/(\d+)/$", page.url).group(1)
    page.goto("/w/acme/runs/")
    expect(row(page, run_id).locator(".badge")).to_have_text(re.compile("queued|running"))
    mark_document(page)
    expect(row(page, run_id).locator(".badge")).to_have_text("succeeded")
    expect(page.locator("#toasts")).to_contain_text(f"Run #{run_id} succeeded.")
    assert_never_reloaded(page)


def test_filters_hold_and_a_filtered_page_gets_only_its_runs(
    worker, workspace, alice_page, brickwork
):
    page = alice_page
    page.goto("/w/acme/runs/?status=failed")
    mark_document(page)
    nap = brickwork.action("debug.echo").run({"who": "ada"})
    broken = brickwork.action("debug.fail").run({"retryable": False})
    expect(row(page, broken.id)).to_be_visible()
    nap.wait()
    page.wait_for_timeout(2500)  # a poll after the echo's end
    expect(row(page, nap.id)).to_have_count(0)
    assert_never_reloaded(page)


def test_a_failure_reaches_the_inbox_its_groups_and_the_sidebar(
    worker, workspace, alice_page, brickwork, screenshot
):
    page = alice_page
    count = page.locator("nav a[href$='/failures/'] .count")
    page.goto("/w/acme/failures/")
    expect(page.get_by_text("Inbox zero")).to_be_visible()
    mark_document(page)
    first = brickwork.action("debug.fail").run({"retryable": False, "message": "card declined"})
    expect(row(page, first.id)).to_contain_text("card declined")
    expect(row(page, first.id).get_by_role("checkbox")).to_be_visible()
    expect(count).to_have_text("1")
    expect(page.locator(NEWS)).to_have_text("1 new failure")
    assert_never_reloaded(page)
    screenshot(page, "live-inbox", full_page=False)
    # The grouped view counts the group up when the same failure comes again
    page.get_by_role("link", name="Group by error").click()
    groups = page.locator("#failure-groups")
    expect(groups).to_contain_text("card declined")
    mark_document(page)
    brickwork.action("debug.fail").run({"retryable": False, "message": "card declined"})
    expect(groups.locator("tr").first.locator("td.num").first).to_have_text("2")
    expect(count).to_have_text("2")
    assert_never_reloaded(page)


def test_a_signed_webhook_appears_on_the_triggers_page(
    worker, workspace, alice_page, live_server, screenshot
):
    workflow = Workflow.objects.create(workspace=workspace, slug="signup", name="On signup")
    steps = [{"key": "greet", "action": "debug.echo", "input": {"who": "{{ input.email }}"}}]
    workflow.publish(validate({"name": "On signup", "steps": steps}, workspace))
    trigger = Trigger.objects.create(
        workflow=workflow, token=Trigger.new_token(), signature="timestamped", secret=SECRET
    )
    page = alice_page
    page.goto("/w/acme/workflows/signup/triggers/")
    table = page.locator(f"#deliveries-{trigger.id}")
    expect(table).to_contain_text("No deliveries yet")
    screenshot(page, "live-deliveries-empty", full_page=False)
    mark_document(page)
    body = b'{"email": "ada@example.com"}'
    request = urllib.request.Request(
        f"{live_server.url}/hooks/{trigger.token}",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Brickwork-Signature": sign_timestamped(SECRET, body, time.time()),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 202
    delivery = trigger.deliveries.get()
    expect(page.locator(f"#delivery-row-{delivery.id}")).to_contain_text("Accepted")
    expect(table).not_to_contain_text("No deliveries yet")
    expect(page.locator(NEWS)).to_have_text("1 new delivery")
    assert_never_reloaded(page)
    screenshot(page, "live-deliveries", full_page=False)


def set_visibility(page, state):
    """What the browser does when the tab is hidden or shown again."""
    page.evaluate(
        """state => {
            Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_polling_stops_while_the_tab_is_hidden(workspace, alice_page):
    page = alice_page
    polls = []
    page.on("request", lambda request: "/runs/live?" in request.url and polls.append(time.time()))
    page.goto("/w/acme/runs/")
    page.wait_for_timeout(4500)
    assert len(polls) >= 2  # every 2 s while visible
    set_visibility(page, "hidden")
    page.wait_for_timeout(300)  # a poll already on its way may still land
    hidden_at = len(polls)
    page.wait_for_timeout(6000)
    assert len(polls) == hidden_at  # three periods hidden: not one request
    shown_at = time.time()
    set_visibility(page, "visible")
    page.wait_for_timeout(4500)
    assert polls[hidden_at] - shown_at < 1  # at once on return, then every 2 s again
    assert len(polls) >= hidden_at + 3


def test_a_run_page_stops_polling_while_the_tab_is_hidden(worker, workspace, alice_page):
    page = alice_page
    run = start(workspace, [{"key": "nap", "action": "debug.sleep", "input": {"ms": 15000}}])
    polls = []
    page.on("request", lambda request: "/timeline?" in request.url and polls.append(time.time()))
    page.goto(f"/w/acme/runs/{run.id}/")
    page.wait_for_timeout(2500)
    assert len(polls) >= 2  # every second while visible
    set_visibility(page, "hidden")
    page.wait_for_timeout(300)  # a poll already on its way may still land
    hidden_at = len(polls)
    page.wait_for_timeout(3000)
    assert len(polls) == hidden_at  # three ticks hidden: not one request
    set_visibility(page, "visible")
    page.wait_for_timeout(2500)
    assert len(polls) >= hidden_at + 2
