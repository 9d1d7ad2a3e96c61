"""The step panel's typed input fields, generated from the action's input JSON Schema.

The fields are a second view of the step's `input`: the browser writes them into the JSON
text area before the autosave posts it, so the server parses one value as before. Each
top-level property becomes one field of a kind the browser knows how to read and write:
text, textarea, number, boolean, enum, secret (a choice of the workspace's secret names)
or json (objects, arrays, `oneOf`, no type). A value that is a `{{ reference }}` shows
the field in reference mode, whatever its kind.
"""

import json
from dataclasses import dataclass, field

from core import references

SECRET_FORMATS = {"secret", "password"}


@dataclass(frozen=True, kw_only=True)
class InputField:
    name: str
    slot: str  # the panel's error slot for this field: "input-<position>"
    kind: str  # text | textarea | number | boolean | enum | secret | json
    required: bool
    description: str = ""
    integer: bool = False
    text: str = ""  # the widget's value as typed; for an enum, the option's JSON
    checked: bool = False
    reference: bool = False
    present: bool = False  # the input names this field (an absent boolean is not "false")
    options: list = field(default_factory=list)  # enum: (json, label); secret: names
    placeholder: str = ""


def input_fields(schema, value, *, secrets=(), ui=None, order=()):
    """The fields of `schema`'s top-level properties, showing `value` (the step's input).

    `ui` and `order` are the action's hints (core/actions/registry.py `run_form_hints`):
    the widget a field asks for, and the order its code declares the fields in.
    """
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return []
    value = value if isinstance(value, dict) else {}
    required = set(schema.get("required") or [])
    ui = ui or {}
    first = {name: position for position, name in enumerate(order)}
    names = sorted(schema["properties"], key=lambda name: first.get(name, len(first)))
    return [
        _field(name, _spec(schema["properties"][name]), position, value, required, ui, secrets)
        for position, name in enumerate(names)
    ]


def _spec(spec):
    return spec if isinstance(spec, dict) else {}


def _field(name, spec, position, value, required, ui, secrets):
    kind = kind_of(spec, ui.get(name))
    present = name in value
    current = value.get(name)
    common = {
        "name": name,
        "slot": f"input-{position}",
        "required": name in required,
        "description": str(spec.get("description") or ""),
        "present": name in value,
    }
    secret_name = _secret_name(current)
    if kind == "secret" and (not present or secret_name is not None):
        return InputField(kind=kind, text=secret_name or "", options=list(secrets), **common)
    if isinstance(current, str) and references.REFERENCE.search(current):
        return InputField(kind=kind, text=current, reference=True, **common)
    placeholder = "" if spec.get("default") is None else json.dumps(spec["default"])
    if not present:
        return _empty(kind, spec, placeholder, common)
    if kind == "enum" and current in spec["enum"]:
        return InputField(kind=kind, text=json.dumps(current), options=_choices(spec), **common)
    if kind == "boolean" and isinstance(current, bool):
        return InputField(kind=kind, checked=current, **common)
    if kind == "number" and _is_number(current):
        return InputField(
            kind=kind, text=json.dumps(current), integer=spec.get("type") == "integer", **common
        )
    if kind in ("text", "textarea") and isinstance(current, str):
        return InputField(kind=kind, text=current, placeholder=placeholder, **common)
    # A value of another type than the schema's (or a secret field holding anything else):
    # edit it as JSON, so nothing typed is lost; the validator says what is wrong with it.
    return InputField(kind="json", text=json.dumps(current, indent=2), **common)


def _empty(kind, spec, placeholder, common):
    if kind == "enum":
        return InputField(kind=kind, options=_choices(spec), placeholder=placeholder, **common)
    if kind == "boolean":
        return InputField(kind=kind, checked=spec.get("default") is True, **common)
    integer = spec.get("type") == "integer"
    return InputField(kind=kind, integer=integer, placeholder=placeholder, **common)


def kind_of(spec, hint=None):
    """The widget for one property's schema (`hint`: the action's "line"/"textarea" ask)."""
    kind = spec.get("type")
    if isinstance(spec.get("enum"), list) and spec["enum"]:
        return "enum"
    if kind == "string" and (spec.get("format") in SECRET_FORMATS or spec.get("writeOnly")):
        return "secret"
    if kind == "boolean":
        return "boolean"
    if kind in ("integer", "number"):
        return "number"
    if kind is None and hint in ("line", "textarea") and _may_be_string(spec):
        kind = "string"  # e.g. e-mail's `to`: an address, or a list (edited as JSON)
    if kind == "string":
        if hint in ("line", "textarea"):
            return "text" if hint == "line" else "textarea"
        long = spec.get("maxLength", 0) > 200 or spec.get("format") == "textarea"
        return "textarea" if long else "text"
    return "json"


def field_errors(fields, errors, index):
    """The validator's errors about each field, keyed by its slot: `steps[1].input.url`
    goes to the url field; `steps[1].input.headers.X` to headers, as "X: message"."""
    prefix = f"steps[{index}].input."
    slots = {}
    for item in fields:
        own = prefix + item.name
        for path, messages in errors.items():
            if path == own or path.startswith((own + ".", own + "[")):
                detail = path[len(own) :].lstrip(".")
                slots.setdefault(item.slot, []).extend(
                    f"{detail}: {message}" if detail else message for message in messages
                )
    return slots


def _may_be_string(spec):
    options = spec.get("oneOf") or spec.get("anyOf") or []
    return any(isinstance(option, dict) and option.get("type") == "string" for option in options)


def _choices(spec):
    return [(json.dumps(option), str(option)) for option in spec["enum"]]


def _secret_name(value):
    if not references.is_whole_reference(value):
        return None
    path = value.strip()[2:-2].strip()
    root, _, name = path.partition(".")
    return name if root == "secrets" and name and "." not in name else None


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)
