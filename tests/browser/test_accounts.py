"""Accounts in a real browser: password reset through a real SMTP server, a two-factor
(TOTP) sign-in, and sign-in through an OpenID Connect provider, all on loopback."""

import email
import re

import pytest
from playwright.sync_api import expect

from core.models import Membership
from tests.oidc_provider import OidcProvider
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
def mail_to(settings, smtp_server):
    """The live server's mail goes to the loopback SMTP server."""
    smtp_server.clear()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_server.port, "timeout": 10},
        }
    }
    return smtp_server


def sign_in(page, login, password):
    page.goto("/login/")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_password_reset_by_email(page, alice, mail_to, screenshot):
    # Given alice forgot her password
    page.goto("/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_role("button", name="Reset my password").click()
    expect(page.get_by_role("heading", name="Password reset")).to_be_visible()
    screenshot(page, "password-reset-sent", full_page=False)
    # When she follows the link of the e-mail that reached the SMTP server
    message = _wait_for_message(mail_to)
    assert message.rcpt_tos == ["alice@example.com"]
    body = email.message_from_bytes(message.content).get_payload(decode=True).decode()
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", body)
    page.goto(link.group(0))
    page.get_by_label("New Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New Password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is now changed.")).to_be_visible()
    # Then the old password no longer signs in, and the new one does
    sign_in(page, "alice", PASSWORD)
    expect(page.locator(".form-errors")).to_be_visible()
    sign_in(page, "alice", NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/w/acme/$"))


def test_sign_in_with_a_totp_code(page, alice, screenshot):
    from allauth.mfa.totp.internal import auth

    # Given alice turned on two-factor sign-in with an authenticator app
    secret = auth.generate_totp_secret()
    auth.TOTP.activate(alice, secret)
    # When she signs in with her password
    sign_in(page, "alice", PASSWORD)
    # Then she is asked for a code, and a wrong one is refused
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".errorlist, .form-errors").first).to_be_visible()
    screenshot(page, "two-factor-code", full_page=False)
    # And the code of her app signs her in
    counter = next(auth.yield_hotp_counters_from_time())
    code = auth.format_hotp_value(auth.hotp_value(secret, counter))
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/w/acme/$"))


def test_owners_must_turn_on_two_factor_when_required(alice_page, settings):
    settings.TWO_FACTOR_REQUIRED_FOR_OWNERS = True
    alice_page.goto("/w/acme/")
    expect(alice_page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/|/reauthenticate/"))


def test_sign_in_through_an_openid_connect_provider(page, settings, live_server, screenshot):
    from django.contrib.auth import get_user_model

    person = {
        "sub": "olga-123",
        "email": "olga@example.com",
        "email_verified": True,
        "preferred_username": "olga",
        "name": "Olga Orlova",
    }
    provider = OidcProvider("brickwork", "provider-secret", person)
    provider.start()
    try:
        # Given Brickwork is configured for the provider (as OIDC_* settings do)
        # (core/settings.py also lets forms redirect to the provider's origin)
        csp = settings.SECURE_CSP
        settings.SECURE_CSP = {**csp, "form-action": [*csp["form-action"], provider.issuer]}
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [
                    {
                        "provider_id": "oidc",
                        "name": "Acme SSO",
                        "client_id": "brickwork",
                        "secret": "provider-secret",
                        "settings": {"server_url": provider.discovery_url},
                    }
                ],
            }
        }
        # When a new person signs in with it
        page.goto("/login/")
        page.get_by_role("link", name="Acme SSO").click()
        page.get_by_role("button", name="Continue").click()
        # Then they come back signed in, as a new account asked for its first workspace
        expect(page).to_have_url(re.compile(r"/workspaces/new/$"))
        screenshot(page, "oidc-first-sign-in", full_page=False)
        user = get_user_model().objects.get(email="olga@example.com")
        assert user.socialaccount_set.get().uid == "olga-123"
        page.get_by_label("Workspace name").fill("Olga's team")
        page.get_by_role("button", name="Create").click()
        expect(page).to_have_url(re.compile(r"/w/olgas-team/$"))
        assert Membership.objects.get(user=user).role == "owner"
    finally:
        provider.stop()


def _wait_for_message(smtp_server, timeout=10):
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        if smtp_server.messages:
            return smtp_server.messages[-1]
        time.sleep(0.1)
    raise AssertionError("no e-mail reached the SMTP server")
