"""The alert rule form of the dashboard; its rules are runner/alerts.py's `save_rule`, the
same the API answers with."""

from django import forms

from builder.models import Workflow
from runner.alert_models import AlertEvent

FIELDS = ("name", "workflow", "events", "long_run_s", "email_to", "webhook_url", "window_s")


class AlertRuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    workflow = forms.ModelChoiceField(
        queryset=Workflow.objects.none(),
        required=False,
        empty_label="Every workflow",
        help_text="Alert on one workflow's runs only, or on all of the workspace's.",
    )
    events = forms.MultipleChoiceField(
        choices=AlertEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Alert when",
        required=False,
    )
    long_run_s = forms.IntegerField(
        required=False,
        min_value=1,
        label="Longer than (seconds)",
        help_text="For “a run takes longer than a duration”.",
    )
    email_to = forms.CharField(
        required=False,
        label="E-mail to",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Addresses, one per line or separated by commas; sent through the "
        "server's SMTP settings.",
    )
    webhook_url = forms.CharField(
        required=False,
        max_length=500,
        label="Webhook URL",
        help_text="Receives a JSON POST with a Slack-compatible “text” field.",
    )
    webhook_secret = forms.CharField(
        required=False,
        max_length=200,
        label="Webhook signing secret",
        widget=forms.PasswordInput(render_value=False),
        help_text="Signs each POST (Brickwork-Signature: t=…,v1=…, as our webhook triggers "
        "check them). Write-only; leave empty to keep the saved one.",
    )
    window_s = forms.IntegerField(
        min_value=1,
        initial=3600,
        label="Fold repeats for (seconds)",
        help_text="One alert per workflow, step and error code in this window; the "
        "repeats are counted into it.",
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workflow"].queryset = Workflow.objects.filter(workspace=workspace).order_by(
            "name"
        )

    def changes(self):
        changes = {field: self.cleaned_data[field] for field in FIELDS}
        changes["email_to"] = changes["email_to"].strip()
        changes["webhook_url"] = changes["webhook_url"].strip()
        if self.cleaned_data["webhook_secret"]:
            changes["webhook_secret"] = self.cleaned_data["webhook_secret"]
        return changes

    def add_errors(self, errors):
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
