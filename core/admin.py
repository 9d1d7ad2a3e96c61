"""Django admin for the core models. History (ActionVersion) is read-only; secret values,
key hashes and tokens are never shown."""

from django import forms
from django.contrib import admin

from core.models import (
    Action,
    ActionVersion,
    ApiKey,
    AuditEntry,
    IdempotencyKey,
    Membership,
    Secret,
    WorkerHeartbeat,
    Workspace,
)
from core.web.sign_in import ThrottledAdminAuthenticationForm

# The admin's sign-in brakes guessing like the app's: the demo user is a superuser.
admin.site.login_form = ThrottledAdminAuthenticationForm


class ReadOnlyAdmin(admin.ModelAdmin):
    """For history: rows can be looked at, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "workspace__slug"]
    autocomplete_fields = ["user", "workspace"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    fields = ["workspace", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["workspace", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # keys are issued on the API keys page, where the raw key is shown once


class SecretAdminForm(forms.ModelForm):
    # The value is write-only: it can be replaced, never read back.
    value = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        strip=False,
        required=False,
        help_text="Leave empty to keep the current value.",
    )

    class Meta:
        model = Secret
        fields = ["workspace", "name"]

    def clean(self):
        data = super().clean()
        if "name" in data and (problems := Secret.check_name(data["name"])):
            self.add_error("name", problems)
        keep = self.instance.pk is not None and not data.get("value")  # empty: keep it
        if not keep and (problems := Secret.check_value(data.get("value"))):
            self.add_error("value", problems)
        return data

    def save(self, commit=True):
        if self.cleaned_data.get("value"):
            self.instance.value = self.cleaned_data["value"]
        return super().save(commit)


@admin.register(Secret)
class SecretAdmin(admin.ModelAdmin):
    form = SecretAdminForm
    list_display = ["name", "workspace", "updated_at"]
    search_fields = ["name"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["worker", "hostname", "pid", "started_at", "last_seen_at"]


class ActionVersionInline(admin.TabularInline):
    model = ActionVersion
    extra = 0
    fields = ["version", "kind", "timeout_s", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "created_at"]
    search_fields = ["name"]
    list_filter = [("workspace", admin.EmptyFieldListFilter)]
    inlines = [ActionVersionInline]


@admin.register(ActionVersion)
class ActionVersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "timeout_s", "created_at"]
    list_filter = ["kind"]
    search_fields = ["action__name"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["key", "workspace", "run", "created_at"]
    search_fields = ["key"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Append-only: the log of who did what is looked at here, never edited."""

    list_display = ["at", "workspace", "actor_label", "action", "object_type", "object_label"]
    list_filter = ["action"]
    search_fields = ["actor_label", "object_label", "action"]
    date_hierarchy = "at"
