"""The field allauth's sign-up form gains here: the new account owns this workspace.

Its own module: allauth imports it while building its forms, so it must not import them.
"""

from django import forms
from django.utils.text import slugify


class WorkspaceSignupForm(forms.Form):
    """The extra field of allauth's sign-up form: the new account owns this workspace."""

    workspace = forms.CharField(
        max_length=100, label="Workspace name", help_text="You can invite people later."
    )

    def clean_workspace(self):
        name = self.cleaned_data["workspace"].strip()
        if not slugify(name):
            raise forms.ValidationError("Use at least one letter or digit.")
        return name

    def signup(self, request, user):
        from core.web.forms import WorkspaceForm

        workspace = WorkspaceForm({"name": self.cleaned_data["workspace"]})
        workspace.is_valid()
        workspace.create(user)
