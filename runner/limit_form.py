"""The form of the limits page; its rules are runner/action_limits.py's `save`, the same
the API answers with."""

from django import forms

from runner import action_limits
from runner.models import KeyPart

FIELDS = ("name", "action", "key", "key_part", "max_concurrent", "rate_per_s", "burst")


class LimitForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Shown on a step it holds back.")
    action = forms.CharField(max_length=200, help_text="The action's name, e.g. http.request.")
    key = forms.CharField(
        max_length=200,
        required=False,
        label="Key (optional)",
        help_text="A reference into the step's input, e.g. {{ input.url }}: each value "
        "gets limits of its own.",
    )
    key_part = forms.ChoiceField(choices=KeyPart.choices, initial=KeyPart.VALUE, label="Use")
    max_concurrent = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=action_limits.MAX_CONCURRENT,
        label="At most at once",
    )
    rate_per_s = forms.FloatField(
        required=False,
        min_value=0.001,
        max_value=action_limits.MAX_RATE,
        label="At most per second",
    )
    burst = forms.IntegerField(
        min_value=1,
        max_value=action_limits.MAX_BURST,
        initial=1,
        help_text="How many may start together within the rate.",
    )

    def changes(self):
        return {field: self.cleaned_data[field] for field in FIELDS}

    def add_errors(self, errors):
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
