"""Sign-in with a brake on guessing: after SIGN_IN_FAILURES_PER_NAME failed attempts for
one username, or SIGN_IN_FAILURES_PER_ADDRESS from one address, within
SIGN_IN_WINDOW_MIN minutes, sign-in answers with a form error until the window ends,
even with the right password. The admin's sign-in shares the same brake and counters:
a superuser's password is worth more, not less, to someone guessing."""

import time

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm

from core import counters


class Throttled:
    """Mixed into an AuthenticationForm (its `clean` checks the password)."""

    def clean(self):
        keys = self._failure_keys()
        if self._over_limit(keys):
            raise forms.ValidationError(
                "Too many failed sign-ins. Try again in %(minutes)d minutes.",
                code="throttled",
                params={"minutes": settings.SIGN_IN_WINDOW_MIN},
            )
        try:
            return super().clean()
        except forms.ValidationError:
            for key, _ in keys:
                counters.increment(key, settings.SIGN_IN_WINDOW_MIN * 60)
            raise

    def _failure_keys(self):
        """(counter, limit) for the name and the address, in the current window."""
        window = int(time.time() // (settings.SIGN_IN_WINDOW_MIN * 60))
        name = (self.cleaned_data.get("username") or "").strip().lower()
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        return [
            (f"brickwork:sign-in:name:{name}:{window}", settings.SIGN_IN_FAILURES_PER_NAME),
            (f"brickwork:sign-in:addr:{address}:{window}", settings.SIGN_IN_FAILURES_PER_ADDRESS),
        ]

    def _over_limit(self, keys):
        return any(limit and counters.read(key) >= limit for key, limit in keys)


class ThrottledAuthenticationForm(Throttled, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(Throttled, AdminAuthenticationForm):
    pass


sign_in = auth_views.LoginView.as_view(
    template_name="core/login.html",
    redirect_authenticated_user=True,
    authentication_form=ThrottledAuthenticationForm,
    extra_context={"signup_open": lambda: settings.SIGNUP_OPEN},
)
