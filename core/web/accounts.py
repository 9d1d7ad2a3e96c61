"""Accounts on django-allauth: sign-up makes a workspace, sign-in keeps the shared brake.

allauth brings e-mail verification, password reset, TOTP two-factor and OIDC sign-in;
what is ours is the first workspace of a new account, `SIGNUP_OPEN`, and the guessing
brake that every web process shares through Redis (core/sign_in_brake.py).
"""

from allauth.account import views as account_views
from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.conf import settings
from django.shortcuts import render

from core import sign_in_brake


def sign_up(request):
    """allauth's sign-up, or 403 and whom to ask while SIGNUP_OPEN is off."""
    if not settings.SIGNUP_OPEN:
        return render(request, "account/signup_closed.html", status=403)
    return account_views.signup(request)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return settings.SIGNUP_OPEN

    def pre_authenticate(self, request, **credentials):
        super().pre_authenticate(request, **credentials)
        if sign_in_brake.engaged(_name(credentials), _address(request)):
            raise forms.ValidationError(sign_in_brake.message(), code="throttled")

    def authentication_failed(self, request, **credentials):
        sign_in_brake.record_failure(_name(credentials), _address(request))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """People from the configured identity provider may always come in: the provider, not
    the open sign-up page, decides who they are."""

    def is_open_for_signup(self, request, sociallogin):
        return True


def _name(credentials):
    return credentials.get("username") or credentials.get("email") or ""


def _address(request):
    return request.META.get("REMOTE_ADDR", "") if request else ""
