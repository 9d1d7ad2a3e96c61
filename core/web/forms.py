"""Forms of the account and workspace pages."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.text import slugify

from core.models import ApiKey, Role, Secret, Workspace
from core.workspaces import RANK
from runner import pruning


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100, label="Workspace name")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not slugify(name):
            raise forms.ValidationError("Use at least one letter or digit.")
        return name

    def create(self, owner):
        """The workspace, with `owner` as its owner, under a slug nobody has yet."""
        from core.models import Membership

        base = slugify(self.cleaned_data["name"])[:90]
        slug, n = base, 1
        while Workspace.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        workspace = Workspace.objects.create(name=self.cleaned_data["name"], slug=slug)
        Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
        return workspace


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, label="Username")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError("No user has this username. Ask them to sign up first.")
        if self.workspace.memberships.filter(user=user).exists():
            raise forms.ValidationError("This user is already a member.")
        self.user = user
        return username


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Where the key is used, e.g. “billing service”."
    )
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.EDITOR,
        help_text="The key may do what a member of this role may do.",
    )

    def __init__(self, *args, role=Role.OWNER, **kwargs):
        """`role`: the creator's own; nobody makes a key that may do more than they may."""
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [
            (value, label) for value, label in Role.choices if RANK[value] <= RANK[role]
        ]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the key a name.")
        return name

    def issue(self, workspace):
        return ApiKey.issue(workspace, self.cleaned_data["name"], self.cleaned_data["role"])


def _secret_value_field():
    # Write-only: never rendered back, not even after a field error; "new-password"
    # keeps browsers from filling in the user's own saved password.
    return forms.CharField(
        label="Value",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Write-only: once saved it is never shown again, only handed to steps.",
    )


class SecretValueForm(forms.Form):
    """A new value for an existing secret."""

    value = _secret_value_field()

    def clean_value(self):
        if problems := Secret.check_value(self.cleaned_data["value"]):
            raise forms.ValidationError(problems)
        return self.cleaned_data["value"]


class SecretForm(SecretValueForm):
    """A new secret of the workspace: its name and its value."""

    name = forms.CharField(
        max_length=64,
        help_text=f"{Secret.NAME_HELP} Steps write <code>{{{{ secrets.NAME }}}}</code>.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    field_order = ["name", "value"]

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if problems := Secret.check_name(name):
            raise forms.ValidationError(problems)
        if Secret.objects.filter(workspace=self.workspace, name=name).exists():
            raise forms.ValidationError(
                f"{name} exists already: choose “Replace value” in its row to change it."
            )
        return name


class RetentionForm(forms.Form):
    keep_runs_days = forms.IntegerField(
        min_value=1,
        max_value=pruning.MAX_DAYS,
        label="Keep runs (days)",
        help_text="Succeeded and cancelled runs are deleted this long after they ended.",
    )
    keep_failed_runs_days = forms.IntegerField(
        min_value=1,
        max_value=pruning.MAX_DAYS,
        label="Keep failed runs (days)",
        help_text="Failed, compensated and needs-review runs. Runs marked “keep” stay for ever.",
    )
