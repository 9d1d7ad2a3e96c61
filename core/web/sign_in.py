"""The admin's sign-in form, with the same brake on guessing as the app's (allauth's form
goes through core/web/accounts.py)."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from core import sign_in_brake


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        name = self.cleaned_data.get("username")
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        if sign_in_brake.engaged(name, address):
            raise forms.ValidationError(sign_in_brake.message(), code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            sign_in_brake.record_failure(name, address)
            raise
