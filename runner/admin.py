"""Django admin for runs: everything here is history, so it is read-only."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from runner.models import Attempt, Run, RunEvent, StepRun


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["id", "workspace", "workflow", "action", "status", "trigger", "created_at"]
    list_filter = ["status", "trigger", "needs_review"]
    search_fields = ["id"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # no COUNT(*) over every run on each page


@admin.register(StepRun)
class StepRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "run", "key", "kind", "status", "attempt_count"]
    list_filter = ["kind", "status"]
    show_full_result_count = False


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ["id", "run", "step_run", "number", "status", "duration_ms", "worker"]
    list_filter = ["status"]
    show_full_result_count = False


@admin.register(RunEvent)
class RunEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "run", "type", "step_key", "attempt", "to_status", "created_at"]
    list_filter = ["type"]
    show_full_result_count = False
