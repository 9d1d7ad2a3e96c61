"""Validate a value against a JSON Schema, with one list of messages per field path."""

import functools
import json

import jsonschema
import referencing.exceptions

from core.errors import InvalidInput


def field_errors(schema, value, prefix="input"):
    errors = {}
    validator = _validator(json.dumps(schema, sort_keys=True))
    try:
        for error in validator.iter_errors(value):
            path = list(error.absolute_path)
            if error.validator == "required":
                for field in error.validator_value:
                    if not isinstance(error.instance, dict) or field not in error.instance:
                        path = [*path, field]
                        errors.setdefault(_join(prefix, path), []).append("is required")
                        path = list(error.absolute_path)
                continue
            errors.setdefault(_join(prefix, path), []).append(error.message)
    except referencing.exceptions.Unresolvable as error:
        # A `$ref` to nothing (`#/$defs/missing`) is found only while validating: the value
        # cannot be checked, which is the caller's 422, not a crash.
        errors.setdefault(prefix, []).append(unresolvable(error))
    return errors


def unresolvable(error):
    return f"cannot be checked: the schema's $ref {error.ref!r} points to nothing"


@functools.lru_cache(maxsize=1024)
def _validator(schema_json):
    """Schemas repeat (every step of an action checks against the same one): build once."""
    return jsonschema.Draft202012Validator(
        json.loads(schema_json), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def check(schema, value, prefix="input"):
    """Raise InvalidInput when `value` does not match `schema`."""
    errors = field_errors(schema, value, prefix)
    if errors:
        raise InvalidInput(errors)


def check_schema(schema):
    """Return an error message when `schema` is not a JSON Schema, else None."""
    if not isinstance(schema, dict):
        return "must be a JSON Schema object"
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        return f"not a valid JSON Schema: {error.message}"
    return None


def _join(prefix, path):
    parts = [prefix] if prefix else []
    for part in path:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        else:
            parts.append(str(part))
    return ".".join(parts)
