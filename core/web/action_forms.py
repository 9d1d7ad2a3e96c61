"""Forms that define a workspace's own actions: declarative HTTP calls and (staff) scripts.

Saving never edits a version: it makes the next immutable ActionVersion, so runs pinned to
an earlier one keep running what they were started with.
"""

import re

from django import forms
from django.db import IntegrityError, transaction

from core import schemas
from core.models import Action, ActionKind, ActionVersion
from core.retry import DEFAULT_POLICY, validate_policy
from core.web.schema_form import JsonField

NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MAX_TIMEOUT_S = 3600


class ActionForm(forms.Form):
    """Fields every kind has: name, description, input schema, retry policy, timeout."""

    name = forms.CharField(
        max_length=100,
        help_text="Lowercase, dotted: <code>crm.update_record</code>. Steps refer to it by name.",
    )
    description = forms.CharField(required=False, max_length=500)
    input_schema = JsonField(
        expect="object",
        widget=forms.Textarea(attrs={"rows": 8}),
        initial={"type": "object", "properties": {}, "required": []},
        help_text="A JSON Schema for the input; the run form is generated from it.",
    )
    timeout_s = forms.FloatField(
        label="Timeout (seconds)", initial=30, min_value=0.1, max_value=MAX_TIMEOUT_S
    )
    max_attempts = forms.IntegerField(
        label="Max attempts", initial=DEFAULT_POLICY["max_attempts"], min_value=1, max_value=100
    )
    initial_interval_s = forms.FloatField(
        label="First retry after (s)", initial=DEFAULT_POLICY["initial_interval_s"], min_value=0
    )
    backoff_coefficient = forms.FloatField(
        label="Backoff coefficient", initial=DEFAULT_POLICY["backoff_coefficient"]
    )
    max_interval_s = forms.FloatField(
        label="Longest wait (s)", initial=DEFAULT_POLICY["max_interval_s"], min_value=0
    )
    jitter = forms.BooleanField(required=False, initial=True, label="Jitter (±20%)")

    kind = None
    retry_fields = ("max_attempts", "initial_interval_s", "backoff_coefficient", "max_interval_s")

    def __init__(self, *args, workspace, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace, self.action = workspace, action
        if action is not None:
            self.fields["name"].disabled = True
            self.fields["name"].initial = action.name
            self.fields["description"].initial = action.description

    @classmethod
    def initial_from(cls, version):
        """Form values that reproduce `version`, to start its successor from."""
        policy = {**DEFAULT_POLICY, **(version.retry_policy or {})}
        return {
            "input_schema": version.input_schema,
            "timeout_s": version.timeout_s,
            **{key: policy[key] for key in (*cls.retry_fields, "jitter")},
            **cls.config_initial(version.config or {}),
        }

    @staticmethod
    def config_initial(config):
        return {}

    def clean_name(self):
        if self.action is not None:
            return self.action.name
        name = self.cleaned_data["name"].strip()
        if not NAME.match(name):
            raise forms.ValidationError(
                "Use lowercase letters, digits and _, in dot-separated parts (crm.update)."
            )
        if Action.objects.filter(workspace__isnull=True, name=name).exists():
            raise forms.ValidationError("A built-in action has this name.")
        if Action.objects.filter(workspace=self.workspace, name=name).exists():
            raise forms.ValidationError("This workspace has an action with this name already.")
        return name

    def clean_input_schema(self):
        schema = self.cleaned_data["input_schema"]
        if message := schemas.check_schema(schema):
            raise forms.ValidationError(message)
        if schema.get("type", "object") != "object":
            raise forms.ValidationError('An action\'s input is an object: use "type": "object".')
        return schema

    def clean(self):
        data = super().clean()
        policy = {key: data[key] for key in self.retry_fields if data.get(key) is not None}
        policy["jitter"] = bool(data.get("jitter"))
        for field, message in validate_policy(policy).items():
            self.add_error(field if field in self.fields else None, message)
        data["retry_policy"] = policy
        return data

    def config(self):
        raise NotImplementedError

    def save(self, user):
        """The Action (created on first save) and its next ActionVersion."""
        data = self.cleaned_data
        with transaction.atomic():
            if self.action is None:
                try:
                    with transaction.atomic():
                        action = Action.objects.create(
                            workspace=self.workspace,
                            name=data["name"],
                            description=data["description"],
                        )
                except IntegrityError:
                    self.add_error("name", "This workspace has an action with this name already.")
                    return None
            else:
                # Lock the action so two saves cannot take the same version number.
                action = Action.objects.select_for_update().get(id=self.action.id)
                if data["description"] != action.description:
                    action.description = data["description"]
                    action.save(update_fields=["description"])
            latest = action.versions.order_by("-version").first()
            return ActionVersion.objects.create(
                action=action,
                version=(latest.version + 1) if latest else 1,
                kind=self.kind,
                input_schema=data["input_schema"],
                retry_policy=data["retry_policy"],
                timeout_s=data["timeout_s"],
                config=self.config(),
                created_by=user,
            )


class HttpActionForm(ActionForm):
    kind = ActionKind.HTTP

    method = forms.ChoiceField(choices=[(m, m) for m in METHODS], initial="POST")
    url = forms.CharField(
        label="URL template",
        max_length=2000,
        help_text="May use <code>{{ input.id }}</code> and <code>{{ secrets.NAME }}</code>.",
    )
    headers = JsonField(
        expect="object",
        required=False,
        initial={},
        help_text='e.g. {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"}',
    )
    body = JsonField(
        label="Body template (JSON)",
        required=False,
        help_text='Sent as JSON, e.g. {"email": "{{ input.email }}"}. Empty: no body.',
    )

    field_order = ["name", "description", "method", "url", "headers", "body", "input_schema"]

    @staticmethod
    def config_initial(config):
        return {
            "method": config.get("method", "POST"),
            "url": config.get("url", ""),
            "headers": config.get("headers") or {},
            "body": config.get("json"),
        }

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        if not re.match(r"^(https?://|{{)", url):
            raise forms.ValidationError("Start with http:// or https://.")
        return url

    def clean_headers(self):
        headers = self.cleaned_data["headers"] or {}
        bad = [k for k, v in headers.items() if not isinstance(v, str)]
        if bad:
            raise forms.ValidationError(f"Header values must be strings: {', '.join(bad)}.")
        return headers

    def config(self):
        data = self.cleaned_data
        config = {"method": data["method"], "url": data["url"], "headers": data["headers"]}
        if data.get("body") is not None:
            config["json"] = data["body"]
        return config


class ScriptActionForm(ActionForm):
    kind = ActionKind.SCRIPT

    command = JsonField(
        expect="array",
        help_text='The program and its arguments, e.g. ["python3", "scripts/enrich.py"]. '
        "It reads the input as JSON on stdin and prints its output as JSON.",
    )

    field_order = ["name", "description", "command", "input_schema"]

    @staticmethod
    def config_initial(config):
        return {"command": config.get("command") or []}

    def clean_command(self):
        command = self.cleaned_data["command"]
        if not command or not all(isinstance(part, str) and part for part in command):
            raise forms.ValidationError("Give a non-empty list of non-empty strings.")
        return command

    def config(self):
        return {"command": self.cleaned_data["command"]}


FORMS = {ActionKind.HTTP: HttpActionForm, ActionKind.SCRIPT: ScriptActionForm}
