"""Validate a value against a JSON Schema, with one list of messages per field path.

Schemas come from users and are checked in the web process (run starts, webhooks), so
checking must not hurt the server:
- `$ref` resolves inside the schema only: the registry never retrieves, so a remote
  reference is refused when the schema is saved and is an input error if one was stored;
- `pattern`, `patternProperties` and the `regex` format use RE2, which never backtracks,
  so a pattern like `^(a+)+$` is as fast as any other. A pattern RE2 cannot compile
  (lookarounds, backreferences) is refused when the schema is saved.
"""

import functools
import json

import jsonschema
import re2
import referencing
import referencing.exceptions
from jsonschema import ValidationError
from referencing.jsonschema import DRAFT202012

from core.errors import InvalidInput, InvalidOutput

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is the user's error, not a log line
# Keywords whose values are data, not subschemas: a "$ref" or "pattern" key there means nothing.
_DATA_KEYWORDS = {"const", "enum", "examples", "default"}


@functools.lru_cache(maxsize=1024)
def _re2(pattern):
    return re2.compile(pattern, _RE2_OPTIONS)


def _search(pattern, text):
    return _re2(pattern).search(text) is not None


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extras = [
        key
        for key in instance
        if key not in properties and not any(_search(pattern, key) for pattern in patterns)
    ]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        listed = ", ".join(repr(extra) for extra in sorted(extras))
        yield ValidationError(f"Additional properties are not allowed ({listed} unexpected)")


_FORMATS = jsonschema.FormatChecker()
_FORMATS.checkers = dict(jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers)
_FORMATS.checks("regex", raises=re2.error)(lambda instance: bool(_re2(instance)))

Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
)


def validator_for(schema):
    """A validator that matches with RE2 and resolves references inside `schema` only."""
    return Validator(schema, registry=referencing.Registry(), format_checker=_FORMATS)


def field_errors(schema, value, prefix="input"):
    schema_json = json.dumps(schema, sort_keys=True)
    if found := _problems(schema_json):
        # Saved before these checks existed: the schema itself is the input's problem.
        return {prefix or "schema": [f"the schema cannot be used: {found[0]}"]}
    errors = {}
    try:
        for error in _validator(schema_json).iter_errors(value):
            path = list(error.absolute_path)
            if error.validator == "required":
                for field in error.validator_value:
                    if not isinstance(error.instance, dict) or field not in error.instance:
                        errors.setdefault(_join(prefix, [*path, field]), []).append("is required")
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
    return validator_for(json.loads(schema_json))


@functools.lru_cache(maxsize=1024)
def _problems(schema_json):
    return problems(json.loads(schema_json))


def check(schema, value, prefix="input"):
    """Raise InvalidInput when `value` does not match `schema`."""
    errors = field_errors(schema, value, prefix)
    if errors:
        raise InvalidInput(errors)


def check_output(schema, output):
    """Raise InvalidOutput when an action's `output` does not match its `output_schema`."""
    if schema is None:
        return
    errors = field_errors(schema, output, prefix="output")
    if errors:
        raise InvalidOutput(errors)


def check_schema(schema):
    """Return an error message when `schema` is not a JSON Schema we can safely use, else None."""
    if not isinstance(schema, dict):
        return "must be a JSON Schema object"
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        return f"not a valid JSON Schema: {error.message}"
    if found := problems(schema):
        return found[0]
    return None


def problems(schema):
    """What makes a (well-formed) schema unsafe here: remote or dangling references,
    patterns RE2 cannot compile, unevaluatedProperties next to patternProperties."""
    if not isinstance(schema, dict):
        return []
    found = []
    resolver = referencing.Registry().resolver_with_root(DRAFT202012.create_resource(schema))
    _walk(schema, resolver, "", found)
    if {"unevaluatedProperties", "patternProperties"} <= _keywords(schema):
        found.append("unevaluatedProperties cannot be combined with patternProperties here")
    return found


def _walk(node, resolver, at, found):
    if isinstance(node, list):
        for index, item in enumerate(node):
            _walk(item, resolver, f"{at}/{index}", found)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("$id"), str):
        resolver = resolver.in_subresource(DRAFT202012.create_resource(node))
    for keyword in ("$ref", "$dynamicRef"):
        if isinstance(ref := node.get(keyword), str):
            try:
                resolver.lookup(ref)
            except referencing.exceptions.Unresolvable:
                found.append(
                    f"{at or '/'}: {keyword} {ref!r} does not resolve inside this schema "
                    "(references to other documents are never fetched)"
                )
    patterns = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
    if isinstance(node.get("patternProperties"), dict):
        patterns += list(node["patternProperties"])
    for pattern in patterns:
        try:
            _re2(pattern)
        except re2.error as error:
            reason = error.args[0] if error.args else error
            reason = reason.decode(errors="replace") if isinstance(reason, bytes) else reason
            found.append(
                f"{at or '/'}: the pattern {pattern!r} is not supported ({reason}); "
                "patterns use RE2 syntax: no lookarounds or backreferences"
            )
    for key, value in node.items():
        if key not in _DATA_KEYWORDS:
            _walk(value, resolver, f"{at}/{key}", found)


def _keywords(node):
    if isinstance(node, list):
        return set().union(*(_keywords(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set(node)
    for key, value in node.items():
        if key not in _DATA_KEYWORDS:
            found |= _keywords(value)
    return found


def _join(prefix, path):
    parts = [prefix] if prefix else []
    for part in path:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        else:
            parts.append(str(part))
    return ".".join(parts)
