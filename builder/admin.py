"""Django admin for workflows: versions and webhook deliveries are history, read-only."""

from django.contrib import admin

from builder.models import Trigger, WebhookDelivery, Workflow, WorkflowVersion
from core.admin import ReadOnlyAdmin


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "workspace", "updated_at"]
    search_fields = ["name", "slug"]
    list_filter = ["workspace"]


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "note", "created_by", "created_at"]
    search_fields = ["workflow__name"]


@admin.register(Trigger)
class TriggerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "workflow", "kind", "enabled", "signature", "created_at"]
    list_filter = ["kind", "enabled", "signature"]
    # The token is the secret part of the webhook URL and the signing secret is a secret:
    # neither is shown here.
    exclude = ["token", "encrypted_secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "trigger", "verdict", "status_code", "size", "run"]
    list_filter = ["verdict"]
