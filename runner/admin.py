"""Django admin for runs: everything here is history, so it is read-only, and its data
(inputs, outputs, errors, event details) is shown masked, as on the run page."""

import json

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from core.masking import mask
from core.models import Secret
from runner import action_limits, schedules
from runner.models import (
    ActionLimit,
    Alert,
    AlertDelivery,
    AlertRule,
    Attempt,
    MetricTotal,
    MetricWatermark,
    Run,
    RunEvent,
    Schedule,
    StepRun,
)


class MaskedDataAdmin(ReadOnlyAdmin):
    """Shows each field of `masked` through `mask`, in place of the raw column."""

    masked = ("input", "output", "error")

    def get_exclude(self, request, obj=None):
        return self.masked

    def get_readonly_fields(self, request, obj=None):
        return [f"masked_{field}" for field in self.masked]

    def workspace_id(self, obj):
        return obj.workspace_id if isinstance(obj, Run) else obj.run.workspace_id

    def shown(self, obj, field):
        value = mask(getattr(obj, field), Secret.values_of(self.workspace_id(obj)).values())
        return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)

    @admin.display(description="input")
    def masked_input(self, obj):
        return self.shown(obj, "input")

    @admin.display(description="output")
    def masked_output(self, obj):
        return self.shown(obj, "output")

    @admin.display(description="error")
    def masked_error(self, obj):
        return self.shown(obj, "error")

    @admin.display(description="message")
    def masked_message(self, obj):
        return self.shown(obj, "message")

    @admin.display(description="data")
    def masked_data(self, obj):
        return self.shown(obj, "data")


@admin.register(Run)
class RunAdmin(MaskedDataAdmin):
    list_display = ["id", "workspace", "workflow", "action", "status", "trigger", "created_at"]
    list_filter = ["status", "trigger", "needs_review"]
    search_fields = ["id"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # no COUNT(*) over every run on each page


@admin.register(StepRun)
class StepRunAdmin(MaskedDataAdmin):
    list_display = ["id", "run", "key", "kind", "status", "attempt_count"]
    list_filter = ["kind", "status"]
    show_full_result_count = False


@admin.register(Attempt)
class AttemptAdmin(MaskedDataAdmin):
    masked = ("output", "error")
    list_display = ["id", "run", "step_run", "number", "status", "duration_ms", "worker"]
    list_filter = ["status"]
    show_full_result_count = False


@admin.register(RunEvent)
class RunEventAdmin(MaskedDataAdmin):
    masked = ("message", "data")
    list_display = ["id", "run", "type", "step_key", "attempt", "to_status", "created_at"]
    list_filter = ["type"]
    show_full_result_count = False


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    """Schedules are edited on their page or through the API, where the next fire time is
    worked out; here they can be looked at, paused and deleted."""

    list_display = ["name", "workflow", "cron", "interval_s", "timezone", "paused", "next_fire_at"]
    list_filter = ["paused", "overlap"]
    search_fields = ["name", "workflow__slug"]
    fields = list_display[:5] + ["overlap", "catchup_window_s", "input", "paused"]
    fields += ["next_fire_at", "last_fired_at", "last_error", "missed", "skipped"]
    readonly_fields = [f for f in fields if f != "paused"]
    list_editable = ["paused"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # Through runner/schedules.py, so that a resume counts fire times from now.
        schedules.save(Schedule.objects.get(pk=obj.pk), {"paused": obj.paused})


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """Rules are edited on the Alerts page or through the API, where they are checked
    together; here they can be looked at, enabled and disabled. The signing secret is
    never shown."""

    list_display = ["name", "workspace", "workflow", "window_s", "enabled"]
    list_filter = ["enabled"]
    search_fields = ["name"]
    fields = ["name", "workspace", "workflow", "events", "long_run_s", "email_to"]
    fields += ["webhook_url", "window_s", "enabled", "created_at"]
    readonly_fields = [f for f in fields if f != "enabled"]
    list_editable = ["enabled"]

    def has_add_permission(self, request):
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["id", "rule", "event", "title", "count", "test", "opened_at"]
    list_filter = ["event", "test"]
    exclude = ["data"]  # masked when raised; the title and text say the same


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "alert", "channel", "target", "status", "tries", "sent_at"]
    list_filter = ["channel", "status"]


@admin.register(MetricTotal)
class MetricTotalAdmin(ReadOnlyAdmin):
    """What /metrics has folded so far (runner/metrics_totals.py)."""

    list_display = ["family", "labels", "value"]
    list_filter = ["family"]


@admin.register(MetricWatermark)
class MetricWatermarkAdmin(ReadOnlyAdmin):
    list_display = ["name", "until", "position"]


@admin.register(ActionLimit)
class ActionLimitAdmin(admin.ModelAdmin):
    """Limits on actions: saved through runner/action_limits.py, whose rules the page and
    the API use too (a bad one is a form error here as well)."""

    list_display = ["name", "workspace", "action", "key", "max_concurrent", "rate_per_s", "burst"]
    list_filter = ["action"]
    search_fields = ["name", "action"]
    fields = ["workspace", "name", "action", "key", "key_part"]
    fields += ["max_concurrent", "rate_per_s", "burst"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class Checked(form):
            def clean(self):
                cleaned = super().clean()
                limit = self.instance
                for field, value in cleaned.items():
                    setattr(limit, field, value)
                for field, messages in action_limits.problems(limit).items():
                    for message in messages:
                        self.add_error(field if field in self.fields else None, message)
                return cleaned

        return Checked
