"""Issue item 4 over every page of the dashboard, runs, actions, failures, keys and members:
a viewer sees no edit control and a forged POST changes nothing; a user of another
workspace gets 404 everywhere."""

import pytest

from core.models import Action, ActionVersion, ApiKey, Membership
from core.web.action_forms import HttpActionForm
from runner.models import Run
from tests.web import compensated_run, succeeded_run

pytestmark = pytest.mark.django_db(transaction=True)

# Links that lead to a change: a viewer must not be shown any.
EDIT_LINKS = (
    "a[href$='/run'], a[href$='/rerun'], a[href*='/actions/new/'], a[href$='/versions/new']"
)


@pytest.fixture
def acme(workspace, alice, bob):
    """Acme with a finished run, an active one, a custom action and a key to aim at."""
    failed = compensated_run(workspace, user=alice)
    done = succeeded_run(workspace, user=alice)
    form = HttpActionForm(
        {
            "name": "crm.create",
            "method": "POST",
            "url": "https://crm.example/contacts",
            "input_schema": '{"type": "object"}',
            "timeout_s": 10,
            "max_attempts": 3,
            "initial_interval_s": 1,
            "backoff_coefficient": 2,
            "max_interval_s": 60,
        },
        workspace=workspace,
    )
    assert form.is_valid(), form.errors
    form.save(alice)
    key, _ = ApiKey.issue(workspace, "ci")
    return {
        "failed": failed.id,
        "done": done.id,
        "key": key.id,
        "bob": Membership.objects.get(user=bob).id,
    }


def viewer_pages(ids):
    return [
        "/w/acme/",
        "/w/acme/runs/",
        "/w/acme/runs/?status=compensated",
        f"/w/acme/runs/{ids['failed']}/",
        f"/w/acme/runs/{ids['failed']}/?only=failures",
        f"/w/acme/runs/{ids['done']}/",
        "/w/acme/failures/",
        "/w/acme/failures/?group=error",
        "/w/acme/actions/",
        "/w/acme/actions/debug.fail/",
        "/w/acme/actions/crm.create/",
        "/w/acme/api-keys/",
        "/w/acme/members/",
    ]


def editor_pages(ids):
    return [
        f"/w/acme/runs/{ids['failed']}/rerun",
        "/w/acme/actions/debug.fail/run",
        "/w/acme/actions/new/http",
        "/w/acme/actions/crm.create/versions/new",
    ]


def forged_posts(ids):
    return [
        (f"/w/acme/runs/{ids['done']}/cancel", {}),
        (
            f"/w/acme/runs/{ids['failed']}/rerun",
            {"start_from": "start", "version": "pinned", "input_mode": "original"},
        ),
        (
            "/w/acme/failures/bulk",
            {"runs": str(ids["failed"]), "action": "resolve", "note": "mine now"},
        ),
        ("/w/acme/actions/debug.echo/run", {"input-__input__": "{}"}),
        (
            "/w/acme/actions/new/http",
            {"name": "evil.hook", "method": "GET", "url": "https://x.example"},
        ),
        ("/w/acme/actions/crm.create/versions/new", {"method": "GET", "url": "https://x.example"}),
        ("/w/acme/api-keys/new", {"name": "stolen"}),
        (f"/w/acme/api-keys/{ids['key']}/revoke", {}),
        ("/w/acme/members/add", {"username": "charlie", "role": "owner"}),
        (f"/w/acme/members/{ids['bob']}/role", {"role": "owner"}),
        (f"/w/acme/members/{ids['bob']}/remove", {}),
    ]


def state():
    """Everything the forged POSTs aim at, to prove none of them changed anything."""
    return (
        list(Run.objects.order_by("id").values_list("id", "status", "resolved_at")),
        list(ApiKey.objects.order_by("id").values_list("id", "revoked_at")),
        list(Membership.objects.order_by("id").values_list("id", "role")),
        Action.objects.count(),
        ActionVersion.objects.count(),
    )


def post(page, url, data):
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return page.request.post(url, form=data, headers={"X-CSRFToken": token}, max_redirects=0)


def test_viewer_sees_no_edit_controls_and_cannot_post(acme, bob, page_as):
    page = page_as(bob)
    for url in viewer_pages(acme):
        response = page.goto(url)
        assert response.status == 200, url
        posts = page.locator("form[method=post]:not([action$='/logout/'])")
        assert posts.count() == 0, f"{url} shows {posts.count()} form(s) that change things"
        assert page.locator(EDIT_LINKS).count() == 0, f"{url} links to an edit page"
        assert page.locator("input[type=checkbox][name=runs]").count() == 0, url
    for url in editor_pages(acme):
        assert page.goto(url).status == 404, url
    before = state()
    for url, data in forged_posts(acme):
        assert post(page, url, data).status in (403, 404), url
    assert state() == before


def test_editor_cannot_manage_members(acme, erin, page_as):
    page = page_as(erin)
    page.goto("/w/acme/members/")
    assert page.locator("form[action*='/members/']").count() == 0
    before = state()
    for url, data in forged_posts(acme)[-3:]:
        assert post(page, url, data).status == 404, url
    assert state() == before


def test_outsider_gets_404_everywhere(acme, charlie, page_as):
    page = page_as(charlie)
    assert page.goto("/w/globex/").status == 200  # a page of their own, for a CSRF cookie
    for url in viewer_pages(acme) + editor_pages(acme):
        assert page.goto(url).status == 404, url
    before = state()
    for url, data in forged_posts(acme):
        assert post(page, url, data).status == 404, url
    assert state() == before
    # and their own runs list does not show Acme's runs
    page.goto("/w/globex/runs/")
    assert page.locator("#results tbody tr td a").count() == 0
