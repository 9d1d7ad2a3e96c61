"""A Django form generated from an action's JSON Schema, checked by `core.schemas`.

Each top-level property becomes a field: strings, numbers, integers, booleans and enums get
their own widgets; objects and arrays are JSON text areas, and anything else (`oneOf`, no
type) a text area that takes JSON or plain text. A schema without
properties gets one JSON text area for the whole input. The browser's checks are a
convenience: the schema is checked again on the server and its messages land on the field
they are about.
"""

import json

from django import forms
from django.utils.html import escape

from core import jsonbody, schemas

WHOLE = "__input__"  # the field name when the whole input is one JSON object
BOOLEAN_CHOICES = [("", "(not set)"), ("true", "true"), ("false", "false")]


def parse_json(text):
    """The value of JSON `text`, strict as the API (core/jsonbody.py), or ValidationError."""
    try:
        return jsonbody.parse(text.encode("utf-8", "surrogatepass"))
    except jsonbody.MalformedJSON as error:
        reason = str(error).removeprefix("not valid JSON: ")
        raise forms.ValidationError(f"Not valid JSON: {reason}")


class JsonField(forms.CharField):
    """A text area holding any JSON value.

    With `text=True`, what does not even look like JSON (`ada@example.com`, not `{...`,
    `[...` or `"..."`) is taken as a string, as a person typing into a field means it.
    """

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *args, expect=None, text=False, **kwargs):
        self.expect = expect  # "object", "array" or None
        self.text = text
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, str):
            return value
        return "" if value is None else json.dumps(value, indent=2)

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return None
        try:
            parsed = parse_json(text)
        except forms.ValidationError:
            if self.text and text[0] not in '{["':
                return text
            raise
        if self.expect == "object" and not isinstance(parsed, dict):
            raise forms.ValidationError('Must be a JSON object, like {"key": "value"}.')
        if self.expect == "array" and not isinstance(parsed, list):
            raise forms.ValidationError("Must be a JSON array, like [1, 2].")
        return parsed


class EnumField(forms.ChoiceField):
    """A choice among the schema's `enum` values, which keep their JSON type."""

    def __init__(self, values, *, required, **kwargs):
        choices = [(json.dumps(v), str(v)) for v in values]
        if not required:
            choices = [("", "(not set)"), *choices]
        super().__init__(choices=choices, required=required, **kwargs)

    def prepare_value(self, value):
        if value is None or value == "":
            return ""
        return value if isinstance(value, str) and value.startswith('"') else json.dumps(value)

    def clean(self, value):
        value = super().clean(value)
        return json.loads(value) if value else None


class SchemaForm(forms.Form):
    """`ui` maps a field to the widget it asks for ("line" or "textarea") where the schema
    alone would guess; `order` lists fields to show first, in that order
    (core/actions/registry.py `run_form_hints`)."""

    def __init__(self, schema, *args, ui=None, order=(), **kwargs):
        kwargs.setdefault("prefix", "input")
        super().__init__(*args, **kwargs)
        self.schema = schema if isinstance(schema, dict) else {}
        ui = ui or {}
        properties = self.schema.get("properties")
        required = set(self.schema.get("required") or [])
        if isinstance(properties, dict) and properties:
            first = {name: index for index, name in enumerate(order)}
            ordered = sorted(properties, key=lambda name: first.get(name, len(first)))
            for name in ordered:
                spec = properties[name]
                self.fields[name] = _field_for(
                    name, spec if isinstance(spec, dict) else {}, name in required, ui.get(name)
                )
        else:
            self.fields[WHOLE] = JsonField(
                label="Input (JSON object)",
                expect="object",
                required=False,
                initial="{}",
                help_text=_help(self.schema),
            )

    @property
    def whole(self):
        return WHOLE in self.fields

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if self.whole:
            value = data.get(WHOLE) or {}
        else:
            value = {name: v for name, v in data.items() if v is not None and v != ""}
        for path, messages in schemas.field_errors(self.schema, value, prefix="").items():
            field = self._field_of(path)
            for message in messages:
                nested = path if field == WHOLE or path != field else ""
                self.add_error(field, f"{nested}: {message}" if nested else message)
        self.value = value
        return data

    def _field_of(self, path):
        if self.whole:
            return WHOLE
        head = path.split(".")[0].split("[")[0]
        return head if head in self.fields else None


def _help(spec):
    """The schema's description, escaped: forms render help text as HTML, and a schema is
    written by any editor of the workspace."""
    return escape(str(spec.get("description") or ""))


def _field_for(name, spec, required, widget_hint=None):
    label = spec.get("title") or name
    common = {"label": label, "required": required, "help_text": _help(spec)}
    default = spec.get("default")
    if "default" in spec:
        common["initial"] = default
    kind = spec.get("type")
    if "enum" in spec and isinstance(spec["enum"], list):
        return EnumField(spec["enum"], **common)
    if kind == "boolean":
        field = forms.TypedChoiceField(
            choices=BOOLEAN_CHOICES,
            coerce=lambda v: v == "true",
            empty_value=None,
            **{**common, "initial": "" if default is None else str(default).lower()},
        )
        return field
    if kind == "integer":
        return forms.IntegerField(
            min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common
        )
    if kind == "number":
        return forms.FloatField(
            min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common
        )
    if kind == "string":
        long = spec.get("maxLength", 0) > 200 or spec.get("format") == "textarea"
        if widget_hint in ("line", "textarea"):
            long = widget_hint == "textarea"
        widget = forms.Textarea(attrs={"rows": 4}) if long else forms.TextInput
        return forms.CharField(
            widget=widget,
            strip=False,
            max_length=spec.get("maxLength"),
            min_length=spec.get("minLength"),
            **common,
        )
    expect = kind if kind in ("object", "array") else None
    placeholder = {"object": "{}", "array": "[]"}.get(kind, "text, or any JSON value")
    field = JsonField(expect=expect, text=expect is None, **common)
    if widget_hint == "line":
        field.widget = forms.TextInput(attrs={"placeholder": placeholder})
    else:
        field.widget.attrs.update({"rows": 4, "placeholder": placeholder})
    return field
