"""Defining a workspace's own actions through the API, with the browser's forms.

A JSON body becomes the form data of core/web/action_forms.py, so that the API and the
page accept and refuse exactly the same definitions, and save them the same way: each
save makes the next immutable version.
"""

import json
from typing import Any, Literal

from ninja import Field

from core.api.errors import ApiError
from core.api.schemas import JSON_OBJECT, Strict
from core.models import ActionKind
from core.web.action_forms import FORMS, METHODS, ActionForm

RETRY_FIELDS = ActionForm.retry_fields


class RetryPolicyIn(Strict):
    max_attempts: int | None = None
    initial_interval_s: float | None = None
    backoff_coefficient: float | None = None
    max_interval_s: float | None = None
    jitter: bool | None = None


class ActionVersionIn(Strict):
    """The next version; what is left out is taken from the latest version."""

    description: str | None = Field(None, max_length=500)
    input_schema: JSON_OBJECT | None = Field(None, description='A JSON Schema, "type": "object"')
    timeout_s: float | None = None
    retry_policy: RetryPolicyIn | None = None
    method: Literal[tuple(METHODS)] | None = None  # type: ignore[valid-type]
    url: str | None = Field(
        None, description="May use `{{ input.id }}` and `{{ secrets.NAME }}`", max_length=2000
    )
    headers: dict[str, str] | None = None
    body: Any = Field(None, description="A JSON body template; null for no body")


class ActionIn(ActionVersionIn):
    """A new action of the workspace and its version 1."""

    name: str = Field(description="Lowercase, dotted: `crm.update_record`", max_length=100)
    kind: Literal["http", "script"] = Field(
        "http", description="Only staff define `script` actions, in the browser"
    )


def save(request, body, *, kind, action=None, latest=None):
    """Validate `body` with the page's form and save the next version; 422 with its errors."""
    if kind == ActionKind.SCRIPT:
        # Scripts run commands on the workers: staff only, and an API key is nobody's.
        raise ApiError(403, "Script actions are defined by staff, in the browser")
    form_class = FORMS[kind]
    if latest is None:  # what the page pre-fills for a new action
        start = {n: f.initial for n, f in form_class.base_fields.items() if f.initial is not None}
    else:
        start = form_class.initial_from(latest)
    if action is not None:
        start["description"] = action.description
    form = form_class(_form_data(body, start), workspace=request.workspace, action=action)
    if not form.is_valid():
        raise ApiError(422, "The action is invalid", fields=_fields(form))
    version = form.save(user=None)
    if version is None:  # created concurrently under the same name
        raise ApiError(422, "The action is invalid", fields=_fields(form))
    return version


def _form_data(body, start):
    """The form's POST data: the body's values over `start` (the latest version's, or the
    page's defaults); a checkbox left unchecked is absent, as a browser sends it."""
    sent = body.model_dump(exclude_unset=True)
    policy = sent.pop("retry_policy", None) or {}
    values = {**start, **{k: v for k, v in sent.items() if v is not None}}
    values.update({k: v for k, v in policy.items() if v is not None})
    if "body" in sent:
        values["body"] = sent["body"]  # null: the version sends no body
    data = {}
    for field, value in values.items():
        if field == "jitter":
            if value:
                data["jitter"] = "on"
        elif field in ("input_schema", "headers", "body"):
            data[field] = "" if value is None else json.dumps(value)
        else:
            data[field] = str(value)
    return data


def _fields(form):
    """The form's errors under the API's field paths (`retry_policy.max_attempts`)."""
    fields = {}
    for field, messages in form.errors.items():
        path = f"retry_policy.{field}" if field in (*RETRY_FIELDS, "jitter") else field
        path = "retry_policy" if field == "__all__" else path
        fields.setdefault(path, []).extend(str(message) for message in messages)
    return fields
