"""Where people land: a landing page signed out, sign-in required for the rest, `/` goes to the last workspace, sign-out is a POST."""

import uuid

import pytest

from core.models import Membership
from tests.personas import make_user

pytestmark = pytest.mark.django_db


def test_anonymous_people_see_the_landing_page_and_are_sent_to_sign_in(client, workspace):
    landing = client.get("/")
    assert landing.status_code == 200
    page = landing.content.decode()
    assert "Workflows that survive failure" in page
    assert 'href="/login/"' in page and 'href="/signup/"' in page
    response = client.get("/w/acme/runs/")
    assert response.status_code == 302 and response.url == "/login/?next=/w/acme/runs/"


def test_home_goes_to_the_last_workspace_visited(client, alice, other_workspace):
    Membership.objects.create(workspace=other_workspace, user=alice, role="viewer")
    client.force_login(alice)
    assert client.get("/").url == "/w/acme/"
    client.get("/w/globex/")
    assert client.get("/").url == "/w/globex/"


def test_someone_without_a_workspace_is_asked_to_create_one(client, db):
    client.force_login(make_user("newbie"))
    assert client.get("/").url == "/workspaces/new/"
    response = client.post("/workspaces/new/", {"name": "Acme"})
    assert response.url == "/w/acme/"
    response = client.post("/workspaces/new/", {"name": "Acme"})
    assert response.url == "/w/acme-2/"  # slugs never collide
    assert Membership.objects.filter(user__username="newbie", role="owner").count() == 2


def test_sign_in_goes_home_and_sign_out_needs_a_post(client, alice):
    from tests.personas import PASSWORD

    response = client.post("/login/", {"login": "alice", "password": PASSWORD})
    assert response.url == "/"
    # A GET only asks to confirm: a link or an image elsewhere cannot sign anyone out
    assert client.get("/logout/").status_code == 200
    assert client.get("/w/acme/").status_code == 200
    assert client.post("/logout/").url == "/login/"
    assert client.get("/w/acme/").status_code == 302


def test_a_live_region_whose_session_ended_sends_the_whole_page_to_sign_in(client, workspace):
    # Given the dashboard's poll (htmx) after the session ended
    response = client.get(
        "/w/acme/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/w/acme/?x=1"},
    )
    # Then htmx is told to load the sign-in page, coming back to the page, not the poll
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=/w/acme/%3Fx%3D1"
    assert b"<form" not in response.content


def test_the_session_is_written_only_when_the_workspace_changes(client, alice):
    client.force_login(alice)
    assert client.get("/w/acme/").wsgi_request.session.modified
    assert not client.get("/w/acme/runs/").wsgi_request.session.modified


def test_repeated_failed_sign_ins_lock_the_name_for_the_window(client, settings, db):
    from tests.personas import PASSWORD

    # Given at most 3 failures per name, and a name no other test (or run) signs in with
    settings.SIGN_IN_FAILURES_PER_NAME = 3
    name = f"carol{uuid.uuid4().hex[:8]}"
    make_user(name)
    # When someone guesses its password 3 times
    for guess in ("a", "b", "c"):
        response = client.post("/login/", {"login": name.title(), "password": guess})
        assert response.status_code == 200 and "username and/or password" in (
            response.content.decode()
        )
    # Then even the right password is refused with a clear error, and nobody is signed in
    response = client.post("/login/", {"login": name, "password": PASSWORD})
    assert "Too many failed sign-ins. Try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session
    # And another name from the same address still signs in
    make_user("bob")
    assert client.post("/login/", {"login": "bob", "password": PASSWORD}).url == "/"


def test_with_sign_up_closed_nobody_can_make_an_account(client, settings, db):
    from django.contrib.auth.models import User

    from tests.personas import PASSWORD

    # Given SIGNUP_OPEN off
    settings.SIGNUP_OPEN = False
    # When someone opens or posts the sign-up form
    assert client.get("/signup/").status_code == 403
    data = {"username": "zed", "password1": PASSWORD, "password2": PASSWORD, "workspace": "Z"}
    response = client.post("/signup/", data)
    # Then no account is made, the page says why, and sign-in no longer offers it
    assert response.status_code == 403 and "Sign-up is closed" in response.content.decode()
    assert not User.objects.filter(username="zed").exists()
    assert "Create an account" not in client.get("/login/").content.decode()


def test_with_mandatory_verification_a_new_address_is_confirmed_before_sign_in(
    client, settings, mailoutbox, db
):
    import re

    from tests.personas import PASSWORD

    # Given sign-up with mandatory e-mail verification (the default when EMAIL_URL is set)
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    data = {"username": "vera", "email": "vera@example.com", "password1": PASSWORD}
    response = client.post("/signup/", {**data, "password2": PASSWORD, "workspace": "Vera"})
    # Then she is told to check her mail, her workspace exists, and she is not signed in
    assert response.url == "/accounts/confirm-email/"
    assert Membership.objects.get(user__username="vera").workspace.slug == "vera"
    assert client.get("/w/vera/").status_code == 302
    assert client.post("/login/", {"login": "vera", "password": PASSWORD}).url == (
        "/accounts/confirm-email/"
    )
    # And the link of the e-mail confirms the address, after which she signs in
    link = re.search(r"/accounts/confirm-email/[^/\s]+/", mailoutbox[-1].body).group(0)
    client.post(link)
    assert client.post("/login/", {"login": "vera", "password": PASSWORD}).url == "/"


def test_the_admin_sign_in_has_the_same_brake_and_counts_with_the_app(client, settings, db):
    from django.contrib.auth.models import User

    from tests.personas import PASSWORD

    # Given at most 3 failures per name, and a superuser no other test signs in as
    settings.SIGN_IN_FAILURES_PER_NAME = 3
    name = f"root{uuid.uuid4().hex[:8]}"
    User.objects.create_superuser(name, password=PASSWORD)
    # When someone guesses its password 3 times at the admin's sign-in
    for guess in ("a", "b", "c"):
        response = client.post("/admin/login/", {"username": name, "password": guess})
        assert response.status_code == 200 and "Please enter the correct" in (
            response.content.decode()
        )
    # Then the admin refuses even the right password, and so does the app's sign-in
    response = client.post("/admin/login/", {"username": name, "password": PASSWORD})
    assert "Too many failed sign-ins. Try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session
    response = client.post("/login/", {"login": name, "password": PASSWORD})
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_sign_in_is_braked_per_address_too(client, settings, db):
    from django.contrib.auth.models import User

    from tests.personas import PASSWORD

    # Given at most 2 failures per address, from an address no other test uses
    settings.SIGN_IN_FAILURES_PER_ADDRESS = 2
    address, other_address = (f"fd00::{uuid.uuid4().hex[:4]}" for _ in range(2))
    name = f"root{uuid.uuid4().hex[:8]}"
    User.objects.create_superuser(name, password=PASSWORD)
    # When that address guesses two other names' passwords
    for other in ("x1", "x2"):
        client.post("/admin/login/", {"username": other, "password": "z"}, REMOTE_ADDR=address)
    # Then it cannot sign in as anyone at the admin, while another address can
    response = client.post(
        "/admin/login/", {"username": name, "password": PASSWORD}, REMOTE_ADDR=address
    )
    assert "Too many failed sign-ins" in response.content.decode()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": name, "password": PASSWORD},
        REMOTE_ADDR=other_address,
    )
    assert response.status_code == 302 and response.url == "/admin/"
