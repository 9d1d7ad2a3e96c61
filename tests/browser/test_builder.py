"""Issue items 1 and 3: build a workflow in the browser by dragging (then publish and run it
with a real worker, watching the run go live to `succeeded`), and build one with the
keyboard only. Screenshots of the builder go to tests/screenshots/."""

import time

import pytest
from playwright.sync_api import expect

from builder.models import Workflow
from runner.models import Run

pytestmark = pytest.mark.django_db(transaction=True)


def cards(page):
    return page.locator("#canvas .step-card")


def wait_until(page, expression, timeout_s=10):
    """Poll `expression` in the page. (page.wait_for_function evaluates its predicate with
    eval, which the pages' Content-Security-Policy refuses; page.evaluate is not eval.)"""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        page.wait_for_timeout(20)


def canvas_ready(page):
    """The re-rendered canvas has settled: its lists accept drags again."""
    wait_until(
        page, "[...document.querySelectorAll('#canvas [data-steps]')].every(el => Sortable.get(el))"
    )


def drag_action(page, name, target):
    """Drag the palette's `name` onto `target` (SortableJS needs intermediate moves)."""
    count = cards(page).count()
    page.locator(f".palette-item[data-name='{name}']").drag_to(target, steps=10)
    expect(cards(page)).to_have_count(count + 1)
    canvas_ready(page)


def saved(page):
    """Wait for the autosave to be done, and the status to say the draft is valid."""
    expect(page.locator("#builder")).to_have_attribute("data-saving", "false")
    expect(page.locator("#draft-valid")).to_be_visible()


def test_build_by_dragging_publish_and_watch_the_run(
    worker, workspace, alice, alice_page, screenshot
):
    page = alice_page
    # Given alice creates a workflow from the list
    page.goto("/w/acme/workflows/")
    page.get_by_role("button", name="+ New workflow").click()
    page.get_by_label("Name").fill("Signup")
    page.get_by_role("button", name="Create and open the builder").click()
    expect(page).to_have_url("/w/acme/workflows/signup/", timeout=5_000)
    page.evaluate("window.__sameDocument = true")

    # When she drags three actions from the palette onto the canvas
    drag_action(page, "debug.echo", page.locator("#canvas .drop-zone"))
    drag_action(page, "debug.sleep", page.locator("#canvas .drop-zone.end"))
    drag_action(page, "debug.echo", page.locator("#canvas .drop-zone.end"))
    assert _keys(page) == ["debug_echo", "debug_sleep", "debug_echo_2"]
    # And drags the last step above the second
    top_edge = {"x": 60, "y": 4}
    cards(page).nth(2).drag_to(cards(page).nth(1), target_position=top_edge, steps=30)
    expect(cards(page).last).to_have_attribute("data-key", "debug_sleep")
    canvas_ready(page)
    assert _keys(page) == ["debug_echo", "debug_echo_2", "debug_sleep"]

    # And gives the sleep step an input, a retry policy and a compensation
    page.get_by_role("button", name="Edit step debug_sleep").click()
    expect(page.locator("#panel-key")).to_have_text("debug_sleep")
    page.locator("#f-input").fill('{"ms": 2500}')
    page.get_by_label("A policy of its own").check()
    page.get_by_label("Max attempts").fill("4")
    page.get_by_label("Initial interval").fill("1")
    page.get_by_label("Coefficient").fill("3")
    page.get_by_label("Max interval").fill("6")
    page.locator("#f-timeout").fill("5")
    # Then the preview shows the schedule: 1 s, 3 s, then capped at 6 s
    preview = page.locator("#retry-preview")
    expect(preview).to_contain_text("Attempt 4")
    expect(preview.locator(".schedule li")).to_have_count(4)
    expect(preview.locator(".schedule li").nth(2)).to_contain_text("+3 s")
    expect(preview.locator(".schedule li").nth(3)).to_contain_text("+6 s")
    # worst case: (1 + 3 + 6) x 1.2 of waiting + 4 x 5 s of attempts
    expect(preview.locator("#retry-total")).to_have_text("32 s")
    page.locator("#f-comp-action").select_option("debug.echo@1")
    page.locator("#f-comp-input").fill('{"undo": "{{ steps.debug_sleep.output.slept_ms }}"}')
    # And makes it wait for the first step only: a branch beside debug_echo_2
    page.get_by_label("Chosen steps").check()
    page.locator(".after-choices").get_by_label("debug_echo", exact=True).check()
    saved(page)
    expect(page.locator("#canvas .level")).to_have_count(2)
    expect(page.locator("#canvas .level.parallel .step-card")).to_have_count(2)
    assert page.evaluate("window.__sameDocument") is True
    preview.scroll_into_view_if_needed()
    screenshot(page, "builder-dragged")

    # When she publishes with a note
    page.get_by_role("button", name="Publish…").click()
    page.get_by_label("Note").fill("First version")
    page.get_by_role("button", name="Publish v1").click()
    expect(page.locator(".messages")).to_contain_text("as v1")
    workflow = Workflow.objects.get(workspace=workspace, slug="signup")
    version = workflow.latest_version()
    assert version.number == 1 and version.note == "First version"
    sleep_step = version.definition["steps"][2]
    assert sleep_step["after"] == ["debug_echo"]
    assert sleep_step["retry"]["max_attempts"] == 4
    assert sleep_step["compensate"]["action"] == "debug.echo@1"

    # And runs it
    page.get_by_role("link", name="Run", exact=True).click()
    page.get_by_role("button", name="Start the run").click()
    run = Run.objects.get(workflow=workflow)
    expect(page).to_have_url(f"/w/acme/runs/{run.id}/")
    page.evaluate("window.__sameDocument = true")
    # Then the timeline goes from running to succeeded without a reload
    expect(page.locator("#run-status")).to_have_text("running", timeout=10_000)
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=20_000)
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "builder-run")


def tab_to(page, selector, limit=80):
    """Press Tab until `selector` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus")


def press(page, key):
    """Press `key` and wait until htmx has settled the answer (new buttons are live)."""
    page.evaluate(
        "window.__settled = false;"
        "document.addEventListener('htmx:afterSettle', () => { window.__settled = true },"
        " {once: true})"
    )
    page.keyboard.press(key)
    wait_until(page, "window.__settled === true")


def test_keyboard_only_add_reorder_remove(workspace, alice, alice_page, screenshot):
    Workflow.objects.create(
        workspace=workspace, slug="keys", name="Keys", draft={"name": "Keys", "steps": []}
    )
    page = alice_page
    page.goto("/w/acme/workflows/keys/")
    page.evaluate("window.__sameDocument = true")

    # When alice adds three steps with the palette's Add buttons
    for name in ("debug.echo", "debug.sleep", "debug.fail"):
        tab_to(page, f"[data-add-action^='{name}@']")
        count = cards(page).count()
        press(page, "Enter")
        expect(cards(page)).to_have_count(count + 1)
    assert _keys(page) == ["debug_echo", "debug_sleep", "debug_fail"]

    # And moves the last one up twice; the focus stays on its Move up button
    tab_to(page, "#step-debug_fail-up")
    press(page, "Enter")
    expect(page.locator("#step-debug_fail")).to_have_attribute("data-step-index", "1")
    expect(page.locator("#step-debug_fail-up")).to_be_focused()
    press(page, "Enter")
    expect(page.locator("#step-debug_fail")).to_have_attribute("data-step-index", "0")
    assert _keys(page) == ["debug_fail", "debug_echo", "debug_sleep"]

    # And moves the first step down with Move down
    tab_to(page, "#step-debug_echo-down")
    press(page, "Enter")
    expect(page.locator("#step-debug_echo")).to_have_attribute("data-step-index", "2")

    # And removes a step; the focus goes to the step that took its place
    tab_to(page, "#step-debug_sleep-remove")
    press(page, "Enter")
    expect(cards(page)).to_have_count(2)
    expect(page.locator("#step-debug_echo-edit")).to_be_focused()
    assert _keys(page) == ["debug_fail", "debug_echo"]

    # Then the stored draft agrees with the canvas, and the page never reloaded
    draft = Workflow.objects.get(workspace=workspace, slug="keys").draft
    assert [step["key"] for step in draft["steps"]] == ["debug_fail", "debug_echo"]
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "builder-keyboard")


def _keys(page):
    return cards(page).evaluate_all("els => els.map(el => el.dataset.key)")


ONBOARDING = {
    "name": "Customer onboarding",
    "input_schema": {
        "type": "object",
        "properties": {"email": {"type": "string"}, "name": {"type": "string"}},
        "required": ["email"],
    },
    "steps": [
        {
            "key": "create_user",
            "action": "http.request@1",
            "input": {
                "url": "https://accounts.example.com/users",
                "method": "POST",
                "json": {"email": "{{ input.email }}", "name": "{{ input.name }}"},
            },
            "retry": {
                "max_attempts": 5,
                "initial_interval_s": 2,
                "backoff_coefficient": 2.0,
                "max_interval_s": 30,
                "jitter": True,
            },
            "timeout_s": 15,
            "compensate": {
                "action": "http.request@1",
                "input": {
                    "url": "https://accounts.example.com/users/{{ steps.create_user.output.body.id }}",
                    "method": "DELETE",
                },
            },
        },
        {
            "key": "send_welcome",
            "action": "email.send@1",
            "input": {"to": "{{ input.email }}", "subject": "Welcome!", "body": "Hello"},
        },
        {
            "key": "add_to_crm",
            "action": "http.request@1",
            "after": ["create_user"],
            "input": {"url": "https://crm.example.com/contacts", "method": "POST"},
        },
        {
            "key": "notify_team",
            "action": "debug.echo@1",
            "after": ["send_welcome", "add_to_crm"],
            "input": {"user": "{{ steps.create_user.output.body.id }}"},
        },
    ],
}


def test_screenshots_of_the_builder_pages(workspace, alice, bob, page_as, screenshot):
    """Not a behaviour test: the pages a person sees, for a look at tests/screenshots/."""
    from builder.definition import validate
    from builder.models import Trigger, WebhookDelivery

    workflow = Workflow.objects.create(
        workspace=workspace, slug="onboarding", name="Customer onboarding", draft=ONBOARDING
    )
    first = dict(ONBOARDING, steps=ONBOARDING["steps"][:2])
    workflow.publish(validate(first, workspace), "Create the user, say hello", alice)
    workflow.publish(validate(ONBOARDING, workspace), "Add to the CRM, tell the team", alice)
    Workflow.objects.create(
        workspace=workspace, slug="refunds", name="Refunds", draft={"name": "Refunds", "steps": []}
    )
    trigger = Trigger.objects.create(
        workflow=workflow, name="Signup form", token=Trigger.new_token(), signature="timestamped"
    )
    for verdict, code in (("accepted", 202), ("bad_signature", 401), ("accepted", 202)):
        WebhookDelivery.objects.create(trigger=trigger, size=312, status_code=code, verdict=verdict)
    page = page_as(alice)

    page.goto("/w/acme/workflows/onboarding/?step=0")
    page.locator("#retry-preview").scroll_into_view_if_needed()
    screenshot(page, "builder")

    page.get_by_role("button", name="Publish…").click()
    expect(page.locator("#publish-dialog")).to_be_visible()
    screenshot(page, "builder-publish")

    page.goto("/w/acme/workflows/")
    screenshot(page, "workflows")
    page.get_by_role("button", name="+ New workflow").click()
    page.get_by_role("button", name="Create and open the builder").click()
    expect(page.locator("#new-workflow .errorlist")).to_be_visible()
    screenshot(page, "workflows-new-errors")

    page.goto("/w/acme/workflows/onboarding/versions/")
    screenshot(page, "versions")

    page.goto("/w/acme/workflows/onboarding/import/")
    page.locator("textarea[name=definition]").fill('{"steps": [{"key": "Bad", "action": "nope"}]}')
    expect(page.locator("#checked .form-errors")).to_be_visible()
    screenshot(page, "import-errors")

    page.goto("/w/acme/workflows/onboarding/run/")
    page.get_by_label("name").fill("Ada")
    page.get_by_role("button", name="Start the run").click()
    expect(page.locator(".field.invalid .errorlist")).to_contain_text("This field is required.")
    screenshot(page, "run-form-errors")

    page.goto("/w/acme/workflows/onboarding/triggers/")
    screenshot(page, "triggers")

    viewer = page_as(bob)
    viewer.goto("/w/acme/workflows/onboarding/?step=2")
    expect(viewer.locator("#panel fieldset[disabled]")).to_have_count(1)
    screenshot(viewer, "builder-viewer")
