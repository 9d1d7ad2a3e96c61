"""The schedule form of the dashboard; its rules are runner/schedules.py's `save`, the
same the API answers with."""

import json

from django import forms

from runner.models import Overlap
from runner.schedule_times import MAX_INTERVAL_S, MIN_INTERVAL_S

FIELDS = ("name", "cron", "interval_s", "timezone", "input", "overlap", "catchup_window_s")


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=100)
    cron = forms.CharField(
        max_length=100,
        required=False,
        label="Cron expression",
        help_text="Minute hour day month weekday, e.g. 30 9 * * mon-fri, or @hourly, @daily. "
        "Leave empty to run every N seconds instead.",
    )
    interval_s = forms.IntegerField(
        required=False,
        min_value=MIN_INTERVAL_S,
        max_value=MAX_INTERVAL_S,
        label="Or every (seconds)",
        help_text="Instead of cron.",
    )
    timezone = forms.CharField(
        max_length=64, initial="UTC", help_text="An IANA name, e.g. Europe/Berlin."
    )
    input = forms.CharField(
        required=False,
        initial="{}",
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        help_text="The run input, a JSON object; steps also see {{ run.scheduled_for }}.",
    )
    overlap = forms.ChoiceField(
        choices=Overlap.choices, initial=Overlap.SKIP, label="While the previous run goes on"
    )
    catchup_window_s = forms.IntegerField(
        min_value=0,
        max_value=366 * 86400,
        initial=3600,
        label="Catch-up window (seconds)",
        help_text="Times missed while Brickwork was down still run if this recent.",
    )

    def clean_input(self):
        raw = (self.cleaned_data.get("input") or "").strip() or "{}"
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not JSON: {error.msg} (line {error.lineno}).")
        if not isinstance(value, dict):
            raise forms.ValidationError("Must be a JSON object.")
        return value

    def changes(self):
        return {field: self.cleaned_data[field] for field in FIELDS}

    def add_errors(self, errors):
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
