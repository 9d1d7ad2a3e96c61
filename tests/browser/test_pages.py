"""The pages around runs in a real browser: sign-up and sign-in, dashboard, catalogue and
its run form, runs list, failures inbox, API keys, members; keyboard use; screenshots."""

import re

import pytest
from playwright.sync_api import expect

from core.models import ApiKey, Membership
from runner.models import Run
from tests.personas import PASSWORD
from tests.web import compensated_run, history, succeeded_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def busy(workspace, alice):
    """A workspace with a day of history and a few real runs, one of them compensated."""
    history(workspace)
    succeeded_run(workspace, user=alice)
    failed = compensated_run(workspace, user=alice)
    succeeded_run(workspace, user=alice)
    ApiKey.issue(workspace, "billing service")
    return failed


def test_sign_up_closed_says_whom_to_ask(page, screenshot, settings):
    settings.SIGNUP_OPEN = False
    page.goto("/login/")
    expect(page.locator(".auth-foot")).to_contain_text("Ask an administrator")
    page.goto("/signup/")
    expect(page.get_by_role("heading", name="Sign-up is closed")).to_be_visible()
    screenshot(page, "signup-closed", full_page=False)


def test_sign_up_creates_a_workspace_and_signs_in(page, screenshot):
    page.goto("/signup/")
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Email").fill("dora@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill("something else entirely")
    page.get_by_label("Workspace name").fill("Dora's Lab")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".errorlist")).to_contain_text("password")
    screenshot(page, "signup-errors", full_page=False)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/w/doras-lab/$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert Membership.objects.get(user__username="dora").role == "owner"
    # Sign out, then back in through the form
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username or email").fill("dora")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".form-errors")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/w/doras-lab/$"))


def test_dashboard(busy, alice_page, screenshot):
    page = alice_page
    page.goto("/w/acme/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator(".stat").first).to_contain_text("153")
    expect(page.locator("svg.chart rect.ok").first).to_be_attached()
    expect(page.locator("#recent-runs tbody tr")).to_have_count(10)
    screenshot(page, "dashboard")


def test_dashboard_recent_runs_are_live(workspace, alice, alice_page):
    page = alice_page
    page.goto("/w/acme/")
    expect(page.locator("#recent-runs")).to_contain_text("No runs yet")
    run = succeeded_run(workspace, user=alice)
    expect(page.locator(f"#run-row-{run.id}")).to_be_visible(timeout=8_000)


def test_workspace_switcher(workspace, other_workspace, alice, alice_page):
    Membership.objects.create(workspace=other_workspace, user=alice, role="viewer")
    page = alice_page
    page.goto("/w/acme/")
    page.locator(".switcher summary").click()
    page.get_by_role("link", name="Globex").click()
    expect(page).to_have_url(re.compile(r"/w/globex/$"))
    expect(page.locator(".switcher summary")).to_contain_text("Globex")


def test_runs_list_filters_and_pages(busy, alice_page, screenshot):
    page = alice_page
    page.goto("/w/acme/runs/")
    expect(page.locator("#results tbody tr")).to_have_count(50)
    screenshot(page, "runs")
    page.get_by_role("link", name="Older →").click()
    expect(page.locator("#results tbody tr")).to_have_count(50)
    page.get_by_label("Status").select_option("compensated")
    expect(page).to_have_url(re.compile(r"status=compensated"))
    for badge in page.locator("#results tbody .badge").all():
        expect(badge).to_have_text("compensated")


def test_email_run_form_has_a_subject_line_and_a_body_box(workspace, alice_page, screenshot):
    page = alice_page
    page.goto("/w/acme/actions/email.send/run")
    expect(page.get_by_label("subject")).to_have_js_property("tagName", "INPUT")
    expect(page.get_by_label("body")).to_have_js_property("tagName", "TEXTAREA")
    screenshot(page, "email-run-form")


def test_action_catalogue_and_run_form(workspace, alice_page, screenshot):
    page = alice_page
    page.goto("/w/acme/actions/")
    screenshot(page, "actions")
    page.get_by_role("link", name="debug.fail").click()
    expect(page.locator(".schema-prop")).to_have_count(4)  # fail_times, retryable, message, code
    page.get_by_role("link", name="Run", exact=True).click()
    page.get_by_label("fail_times").fill("-5")
    page.get_by_role("button", name="Start run").click()
    expect(page.locator(".field.invalid .errorlist")).to_contain_text("-1")
    screenshot(page, "action-run-errors")
    page.get_by_label("fail_times").fill("0")
    page.get_by_label("retryable").select_option("false")
    page.get_by_role("button", name="Start run").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    run = Run.objects.get()
    assert run.input == {"fail_times": 0, "retryable": False}
    assert run.action.name == "debug.fail"


def test_custom_http_action_and_new_version(workspace, alice_page, screenshot):
    page = alice_page
    page.goto("/w/acme/actions/new/http")
    page.get_by_label("Name").fill("crm.create_contact")
    page.get_by_label("URL template").fill("ftp://nope")
    page.get_by_label("Input schema").fill(
        '{"type": "object", "properties": {"email": {"type": "strin"}}}'
    )
    page.get_by_role("button", name="Create action").click()
    expect(page.locator(".field.invalid")).to_have_count(2)
    screenshot(page, "http-action-errors")
    page.get_by_label("URL template").fill("https://crm.example/contacts")
    page.get_by_label("Input schema").fill(
        '{"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}'
    )
    page.get_by_label("Body template (JSON)").fill('{"email": "{{ input.email }}"}')
    page.get_by_role("button", name="Create action").click()
    expect(page.get_by_role("heading", name="crm.create_contact", exact=True)).to_be_visible()
    page.get_by_role("link", name="New version").click()
    page.get_by_label("Method").select_option("PUT")
    page.get_by_role("button", name="Save v2").click()
    expect(page.locator(".messages")).to_contain_text("crm.create_contact@2")


def test_failures_inbox_group_rerun_resolve(busy, alice_page, screenshot):
    page = alice_page
    page.goto("/w/acme/failures/")
    screenshot(page, "failures")
    page.get_by_role("link", name="Group by error").click()
    expect(page.locator("tbody tr").first).to_be_visible()
    page.get_by_role("link", name="List").click()
    # Resolving needs a note
    page.get_by_label(f"Select run {busy.id}").check()
    page.get_by_role("button", name="Resolve selected").click()
    expect(page.locator(".errorlist")).to_contain_text("Say how it was resolved")
    page.get_by_label(f"Select run {busy.id}").check()
    page.get_by_label("Resolution note").fill("Card expired; customer paid by invoice.")
    page.get_by_role("button", name="Resolve selected").click()
    expect(page.locator(".messages")).to_contain_text("Resolved 1 run")
    busy.refresh_from_db()
    assert busy.resolved_at is not None and "invoice" in busy.resolution_note
    expect(page.locator(f"#run-row-{busy.id}")).to_have_count(0)


def test_api_keys_shown_once_and_revoked(workspace, alice_page, screenshot):
    page = alice_page
    page.goto("/w/acme/api-keys/")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator(".errorlist")).to_be_visible()
    page.get_by_label("Name").fill("deploy bot")
    page.get_by_role("button", name="Create key").click()
    raw = page.locator("#new-key").inner_text()
    assert ApiKey.authenticate(raw).name == "deploy bot"
    screenshot(page, "api-keys")
    page.reload()  # a reload after creating shows the list: no second key, no secret
    assert raw not in page.content()
    assert ApiKey.objects.filter(workspace=workspace, name="deploy bot").count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("tbody")).to_contain_text("revoked")
    assert ApiKey.authenticate(raw) is None


def test_members_owner_adds_and_changes_roles(workspace, alice, alice_page, screenshot):
    from tests.personas import make_user

    make_user("frank")
    page = alice_page
    page.goto("/w/acme/members/")
    page.get_by_label("Username").fill("nobody")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".errorlist")).to_contain_text("No user has this username")
    page.get_by_label("Username").fill("frank")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".messages")).to_contain_text("frank joined as viewer")
    page.get_by_label("Role of frank").select_option("editor")
    page.locator("tr", has_text="frank").get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("frank is now editor")
    screenshot(page, "members")
    # The last owner cannot step down
    page.get_by_label("Role of alice").select_option("viewer")
    page.locator("tr", has_text="alice").get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("at least one owner")


def test_keyboard_rerun_dialog_opens_and_closes_with_escape(busy, alice_page):
    page = alice_page
    page.goto(f"/w/acme/runs/{busy.id}/")
    rerun = page.locator("#rerun-button")
    rerun.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#rerun-dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Timeline rows open with the keyboard too
    row = page.locator("#step-action-charge summary.tl-attempt").first
    row.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#step-action-charge pre.trace").first).to_be_visible()


def test_run_with_1000_attempts_stays_readable(workspace, alice_page, screenshot):
    from tests.web import big_run

    run = big_run(workspace)
    page = alice_page
    page.goto(f"/w/acme/runs/{run.id}/")
    expect(page.locator(".more-attempts")).to_have_count(10)
    expect(page.locator("#step-action-s9")).to_contain_text("100 attempts")
    screenshot(page, "run-1000-attempts")
    page.locator("#more-step-action-s0 > summary").click()
    expect(page.locator("#step-action-s0 li[data-status=failed]")).to_have_count(100)


def test_a_long_unbroken_error_message_does_not_widen_the_pages(workspace, alice_page):
    # Given a run that failed with a 600-character message without a space
    run = Run.objects.create(
        workspace=workspace,
        definition={"name": "Checkout", "steps": []},
        status="failed",
        error={"step": "charge", "message": "x" * 600},
    )
    page = alice_page
    # Then the run page and the grouped inbox stay as wide as the window
    for path in (f"/w/acme/runs/{run.id}/", "/w/acme/failures/?group=error"):
        page.goto(path)
        expect(page.get_by_text("x" * 600)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    # And the group's "Show runs" lists it
    page.get_by_role("link", name="Show runs").click()
    expect(page.locator(f"#run-row-{run.id}")).to_be_visible()
    expect(page.locator("#like-filter")).to_contain_text(f"#{run.id}")
