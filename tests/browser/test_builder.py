"""The builder in a real browser, one flow each with the mouse only and the keyboard only:
build a workflow with two parallel branches and a fan-in (mouse: drag from the palette onto
the canvas, a step and an edge, draw an edge from a handle, delete an edge; keyboard: the
palette's Add buttons and each step's Connect dialog), fill two steps through their typed
input fields (one with a reference picked from the autocomplete), "Test this step" and see
its output, publish, run it with a real worker and watch the run graph's nodes turn green
live. Also the keyboard's add / reorder / remove. Screenshots go to tests/screenshots/."""

import re
import time

import pytest
from playwright.sync_api import expect

from builder.models import Workflow
from runner.models import Run
from runner.states import Trigger as RunTrigger

pytestmark = pytest.mark.django_db(transaction=True)


def cards(page):
    return page.locator("#canvas .gnode[data-step-index]")  # not a pending (optimistic) one


def wait_until(page, expression, timeout_s=15):
    """Poll `expression` in the page. (page.wait_for_function evaluates its predicate with
    eval, which the pages' Content-Security-Policy refuses; page.evaluate is not eval.)"""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        page.wait_for_timeout(20)


def canvas_ready(page):
    """The re-rendered canvas is laid out and htmx is done with it."""
    wait_until(
        page,
        "(() => { const c = document.getElementById('canvas');"
        " return !!(c && c.graphView && c.graphView.section === c"
        " && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')); })()",
    )


def edited(page, action, timeout_s=15):
    """Do `action`, then wait for the canvas the server answers with to be drawn."""
    page.evaluate(
        "window.__drawn = false; document.addEventListener('graph:rendered', event => {"
        " if (!event.target.querySelector('.gnode.pending')) window.__drawn = true })"
    )
    action()
    wait_until(page, "window.__drawn === true", timeout_s)
    canvas_ready(page)


def edge_point(page, source, target):
    """Where on the screen the edge `source` → `target` passes (its middle)."""
    return page.evaluate(
        """([source, target]) => {
            const view = document.getElementById('canvas').graphView;
            const line = view.layout.edges.find(l => l.source === source && l.target === target);
            const box = view.viewport.getBoundingClientRect();
            return {x: box.left + view.view.x + line.mid.x * view.view.k,
                    y: box.top + view.view.y + line.mid.y * view.view.k};
        }""",
        [source, target],
    )


def drag_action(page, name, target=None, point=None, timeout_s=15):
    """Drag the palette's `name` onto `target` (a locator) or a screen `point`."""
    item = page.locator(f".palette-item[data-name='{name}'] .palette-text")

    def drag():
        item.hover()  # (which may scroll the page: the target is measured after it)
        page.mouse.down()
        to = point
        if to is None:
            box = target.bounding_box()
            to = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
        page.mouse.move(to["x"], to["y"], steps=12)
        page.mouse.up()

    count = cards(page).count()
    edited(page, drag, timeout_s)
    expect(cards(page)).to_have_count(count + 1)


def draw_edge(page, source, target):
    handle = page.locator(f"#step-{source} .gnode-handle")
    edited(page, lambda: handle.drag_to(page.locator(f"#step-{target}-edit"), steps=12))


def edges_of(page):
    return sorted(
        page.locator("#canvas [data-graph-edge-list] li").evaluate_all(
            "els => els.map(el => el.dataset.source + '>' + el.dataset.target)"
        )
    )


def saved(page, valid=True):
    """Wait for the autosave to be done, and the status to say the draft is valid."""
    expect(page.locator("#builder")).to_have_attribute("data-saving", "false")
    if valid:
        expect(page.locator("#draft-valid")).to_be_visible()


# The 5-step workflow both tests build: two branches from `debug_echo`, joined again by
# an e-mail that says how long the sleep slept.
FIVE_STEPS = [
    "debug_echo>debug_echo_2",
    "debug_echo>debug_sleep",
    "debug_echo_2>debug_echo_3",
    "debug_echo_3>email_send",
    "debug_sleep>email_send",
]
FIVE_KEYS = ("debug_echo", "debug_sleep", "debug_echo_2", "debug_echo_3", "email_send")
BODY = "Slept {{ steps.debug_sleep.output }}"  # the body's text, the reference picked


def typed(page, name):
    """The typed input field `name` of the open step (the widget, not its reference)."""
    return page.locator(f".typed-field[data-field='{name}'] [data-typed]")


def typed_field(page, name):
    return page.locator(f".typed-field[data-field='{name}']")


def inputs_saved(workflow):
    """The stored draft's inputs of the two steps filled through their forms."""
    workflow.refresh_from_db()
    steps = {step["key"]: step for step in workflow.draft["steps"]}
    return steps["debug_sleep"]["input"], steps["email_send"]["input"]


FILLED = (
    {"ms": 4000},
    {"to": "team@example.com", "subject": "New signup", "body": BODY},
)


def sleep_tested(page):
    """ "Test this step" ran the sleep on the worker; its output is in the panel."""
    expect(page.locator("#test-output")).to_contain_text('"slept_ms": 4000', timeout=20_000)
    test_run = Run.objects.get(trigger=RunTrigger.TEST)
    expect(page.locator("#test-run-link")).to_have_attribute("href", f"/w/acme/runs/{test_run.id}/")


def mail_sent(smtp_server):
    """The run's e-mail reached the SMTP server, its body filled from the reference."""
    mails = [m for m in smtp_server.messages if "team@example.com" in m.rcpt_tos]
    assert len(mails) == 1, smtp_server.messages
    assert 'Slept {"slept_ms": 4000}' in mails[0].content.decode()


def watch_run_go_green(page, workflow, screenshot, name):
    """Start the run from the builder and watch every node of the run graph turn green."""
    expect(page).to_have_url(re.compile(r"/w/acme/runs/\d+/$"))
    run = Run.objects.get(workflow=workflow)
    expect(page).to_have_url(f"/w/acme/runs/{run.id}/")
    page.evaluate(
        """window.__sameDocument = true; window.__seen = [];
        new MutationObserver(changes => changes.forEach(c => window.__seen.push(
            c.target.dataset.key + ':' + c.target.dataset.state)))
          .observe(document.getElementById('run-graph'),
                   {subtree: true, attributes: true, attributeFilter: ['data-state']});"""
    )
    nodes = page.locator("#run-graph .gnode")
    expect(nodes).to_have_count(5)
    for key in FIVE_KEYS:
        expect(page.locator(f"#rg-{key}")).to_have_attribute(
            "data-state", "succeeded", timeout=30_000
        )
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=20_000)
    # Live: the nodes changed colour in this very page, the last one last
    seen = page.evaluate("window.__seen")
    assert "email_send:succeeded" in seen, seen
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#rg-debug_sleep .run-state").inner_text().startswith("succeeded")
    screenshot(page, name)
    # A click on a node opens its attempts in the timeline
    page.locator("#rg-debug_sleep .gnode-body").click()
    expect(page.locator("#sd-step-action-debug_sleep")).to_have_attribute("open", "")
    expect(page.locator("#sd-step-action-debug_sleep .panes")).to_contain_text("slept_ms")
    return run


def test_build_a_graph_with_the_mouse_publish_and_watch_the_run(
    worker, smtp_server, workspace, alice, alice_page, screenshot
):
    smtp_server.clear()
    page = alice_page
    # Given alice creates a workflow from the list
    page.goto("/w/acme/workflows/")
    page.get_by_role("button", name="+ New workflow").click()
    page.get_by_label("Name").fill("Signup")
    page.get_by_role("button", name="Create and open the builder").click()
    expect(page).to_have_url("/w/acme/workflows/signup/", timeout=5_000)
    page.evaluate("window.__sameDocument = true")
    canvas_ready(page)

    # When she drops an action on the empty canvas, then two onto it: two branches
    drag_action(page, "debug.echo", page.locator("#canvas [data-graph-viewport]"))
    drag_action(page, "debug.sleep", page.locator("#step-debug_echo-edit"))
    drag_action(page, "debug.echo", page.locator("#step-debug_echo-edit"))
    assert edges_of(page) == ["debug_echo>debug_echo_2", "debug_echo>debug_sleep"]
    # And an e-mail after the sleep, and draws an edge from the second branch to it: a fan-in
    drag_action(page, "email.send", page.locator("#step-debug_sleep-edit"))
    draw_edge(page, "debug_echo_2", "email_send")
    assert "debug_echo_2>email_send" in edges_of(page)
    # And drops one more onto that new edge: it is inserted on it
    drag_action(page, "debug.echo", point=edge_point(page, "debug_echo_2", "email_send"))
    # And draws an edge she did not mean, clicks it and deletes it
    draw_edge(page, "debug_echo", "email_send")
    assert "debug_echo>email_send" in edges_of(page)
    point = edge_point(page, "debug_echo", "email_send")
    page.mouse.click(point["x"], point["y"])
    expect(page.locator("#canvas [data-remove-edge]")).to_be_visible()
    expect(page.locator("#canvas .gedge.selected")).to_have_count(1)
    edited(page, lambda: page.keyboard.press("Delete"))
    expect(page.locator("#announcer")).to_contain_text("no longer runs after")
    assert edges_of(page) == FIVE_STEPS

    # Then the server holds that graph, and the page never reloaded
    workflow = Workflow.objects.get(workspace=workspace, slug="signup")
    steps = {step["key"]: step for step in workflow.draft["steps"]}
    assert sorted(steps) == sorted(FIVE_KEYS)
    assert page.evaluate("window.__sameDocument") is True

    # When she opens the sleep, hides the JSON view and fills `ms` in its typed field
    page.locator("#step-debug_sleep-edit").click()
    expect(page.locator("#panel-key")).to_have_text("debug_sleep")
    page.locator("#json-toggle").click()
    expect(page.locator("#f-input")).to_be_hidden()
    typed(page, "ms").fill("4000")
    saved(page, valid=False)  # the e-mail's fields are still empty
    # And tests that step: the worker runs it once and the panel shows its output
    page.get_by_text("Test this step").click()
    page.get_by_role("button", name="Run the action once").click()
    sleep_tested(page)
    page.locator("#test-result").scroll_into_view_if_needed()
    screenshot(page, "builder-mouse-test-step", full_page=False)

    # And fills the e-mail's fields, its body a text with a reference she picks by mouse
    page.locator("#step-email_send-edit").click()
    expect(page.locator("#panel-key")).to_have_text("email_send")
    expect(page.locator("#f-input")).to_be_hidden()
    typed(page, "to").fill("team@example.com")
    typed(page, "subject").fill("New signup")
    typed_field(page, "body").get_by_role("button", name="Ref").click()
    combo = typed_field(page, "body").get_by_role("combobox")
    expect(combo).to_be_focused()
    combo.press_sequentially("Slept {{ ")
    expect(combo).to_have_attribute("aria-expanded", "true")
    option = typed_field(page, "body").locator("[data-ref='steps.debug_sleep.output']")
    screenshot(page, "builder-mouse-autocomplete", full_page=False)
    option.click()
    expect(combo).to_have_value(BODY)
    saved(page)
    assert inputs_saved(workflow) == FILLED
    canvas_ready(page)
    screenshot(page, "builder-graph-mouse")

    # When she publishes and runs it, the run graph's nodes turn green live
    page.get_by_role("button", name="Publish…").click()
    page.get_by_role("button", name="Publish v1").click()
    expect(page.locator(".messages")).to_contain_text("as v1")
    page.get_by_role("link", name="Run", exact=True).click()
    page.get_by_role("button", name="Start the run").click()
    run = watch_run_go_green(page, workflow, screenshot, "run-graph-mouse")
    join = next(s for s in run.workflow_version.definition["steps"] if s["key"] == "email_send")
    assert sorted(join["after"]) == ["debug_echo_3", "debug_sleep"]
    mail_sent(smtp_server)
    # And "Open in builder" shows the version the run used
    page.locator("#open-in-builder").click()
    expect(page).to_have_url("/w/acme/workflows/signup/versions/1/")
    expect(page.locator("#version-graph .gnode")).to_have_count(5)


def tab_to(page, selector, limit=120):
    """Press Tab until `selector` has the focus, as a keyboard user would. (A full lap of
    the builder page, sidebar to panel, with five steps is about 80 stops.)"""
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


def connect_by_keyboard(page, key, button):
    """Focus step `key`, press C, and press `button` (a pick or unlink id) in its dialog."""
    tab_to(page, f"#step-{key}-edit")
    page.keyboard.press("c")
    expect(page.locator("#connect-dialog")).to_be_visible()
    tab_to(page, f"#connect-dialog #{button}")
    press(page, "Enter")
    expect(page.locator("#connect-dialog")).not_to_be_visible()
    # the focus is back on the step's Connect button, for the next connection
    expect(page.locator(f"#step-{key}-connect")).to_be_focused()
    canvas_ready(page)


def type_into(page, selector, text):
    """Tab to `selector` and type `text` into it, as a keyboard user would."""
    tab_to(page, selector)
    page.keyboard.type(text)


def test_build_a_graph_with_the_keyboard_publish_and_watch_the_run(
    worker, smtp_server, workspace, alice, alice_page, screenshot
):
    smtp_server.clear()
    Workflow.objects.create(
        workspace=workspace, slug="signup", name="Signup", draft={"name": "Signup", "steps": []}
    )
    page = alice_page
    page.goto("/w/acme/workflows/signup/")
    page.evaluate("window.__sameDocument = true")
    canvas_ready(page)

    # When alice adds five steps with the palette's Add buttons (each runs after the last)
    for name in ("debug.echo", "debug.sleep", "debug.echo", "debug.echo", "email.send"):
        tab_to(page, f"[data-add-action^='{name}@']")
        count = cards(page).count()
        press(page, "Enter")
        expect(cards(page)).to_have_count(count + 1)
        canvas_ready(page)
    assert _keys(page) == list(FIVE_KEYS)
    # And rewires them from each step's Connect dialog (C): debug_echo_2 becomes a branch
    # beside the sleep, and the e-mail joins both branches
    connect_by_keyboard(page, "debug_echo_2", "unlink-debug_sleep-debug_echo_2")
    connect_by_keyboard(page, "debug_echo_2", "pick-after-debug_echo")
    connect_by_keyboard(page, "email_send", "pick-after-debug_sleep")
    expect(page.locator("#announcer")).to_contain_text("email_send now runs after debug_sleep")
    assert edges_of(page) == FIVE_STEPS
    # And the graph reads as a list with each step's dependencies in words
    expect(page.locator("#step-email_send-deps")).to_contain_text(
        "Runs after debug_echo_3, debug_sleep."
    )
    assert page.evaluate("window.__sameDocument") is True

    # When she opens the sleep, hides the JSON view and types `ms` in its typed field
    tab_to(page, "#step-debug_sleep-edit")
    press(page, "Enter")
    expect(page.locator("#panel-key")).to_have_text("debug_sleep")
    tab_to(page, "#json-toggle")
    page.keyboard.press("Enter")
    expect(page.locator("#f-input")).to_be_hidden()
    type_into(page, ".typed-field[data-field='ms'] [data-typed]", "4000")
    saved(page, valid=False)  # the e-mail's fields are still empty
    # And tests that step: open "Test this step", then its button, by Enter
    tab_to(page, "#test-details > summary")
    page.keyboard.press("Enter")
    tab_to(page, "#test-step")
    page.keyboard.press("Enter")
    sleep_tested(page)

    # And fills the e-mail's fields, its body a text with a reference she picks by keyboard
    tab_to(page, "#step-email_send-edit")
    press(page, "Enter")
    expect(page.locator("#panel-key")).to_have_text("email_send")
    expect(page.locator("#f-input")).to_be_hidden()
    type_into(page, ".typed-field[data-field='to'] [data-typed]", "team@example.com")
    type_into(page, ".typed-field[data-field='subject'] [data-typed]", "New signup")
    tab_to(page, ".typed-field[data-field='body'] [data-ref-toggle]")
    page.keyboard.press("Enter")
    combo = typed_field(page, "body").get_by_role("combobox")
    expect(combo).to_be_focused()
    page.keyboard.type("Slept {{ sleep")
    expect(typed_field(page, "body").get_by_role("option")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    expect(
        typed_field(page, "body").locator("[data-ref='steps.debug_sleep.output']")
    ).to_have_attribute("aria-selected", "true")
    screenshot(page, "builder-keyboard-autocomplete", full_page=False)
    page.keyboard.press("Enter")
    expect(combo).to_have_value(BODY)
    saved(page)
    workflow = Workflow.objects.get(workspace=workspace, slug="signup")
    assert inputs_saved(workflow) == FILLED
    canvas_ready(page)
    screenshot(page, "builder-graph-keyboard")

    # When she publishes and runs it from the keyboard, the run graph's nodes turn green live
    tab_to(page, "#publish-button")
    page.keyboard.press("Enter")
    tab_to(page, "#publish-dialog button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("as v1")
    tab_to(page, "#run-button")
    page.keyboard.press("Enter")
    expect(page).to_have_url("/w/acme/workflows/signup/run/")
    tab_to(page, "#main form[method=post] button[type=submit]")
    page.keyboard.press("Enter")
    watch_run_go_green(page, workflow, screenshot, "run-graph-keyboard")
    mail_sent(smtp_server)


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
