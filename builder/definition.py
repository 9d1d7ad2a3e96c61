"""The one validator of workflow definitions: the UI, the API and import all call it.

`validate(definition, workspace)` returns the normalized definition (every step with an
explicit `after` and its action pinned as `name@version`) or raises InvalidDefinition
with one list of messages per field path, e.g. `steps[1].input.url`.
"""

import re

import referencing.exceptions
from django.db.models import Q

from builder import concurrency, decisions, for_each, run_timeout, subflows
from core import references, schemas
from core.errors import InvalidDefinition
from core.models import Action, ActionVersion
from core.retry import validate_policy

KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ACTION_REF = re.compile(r"^(?P<name>[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)(?:@(?P<version>\d+))?$")
TOP_FIELDS = {
    "name",
    "description",
    "input_schema",
    "steps",
    *concurrency.FIELDS,
    run_timeout.FIELD,
}
MAX_STEPS = 200
MAX_TIMEOUT_S = 24 * 3600

# What a step may refer to of its run: `scheduled_for` is the fire time of a scheduled run.
RUN_FIELDS = ("id", "scheduled_for")
# What a step may read of an earlier step (`error` once it failed, for error handlers).
STEP_PARTS = ("output", "status", "error")


def validate(definition, workspace, slug=None):
    """`slug`, the workflow being validated when known, lets a sub-workflow cycle back to
    it be found (builder/subflows.py)."""
    errors = _Errors()
    if not isinstance(definition, dict):
        raise InvalidDefinition({"": ["must be a JSON object"]})
    for field in definition.keys() - TOP_FIELDS:
        errors.add(field, f"unknown field; allowed: {', '.join(sorted(TOP_FIELDS))}")
    for field, limit in (("name", 200), ("description", 2000)):
        value = definition.get(field)
        if value is not None and not isinstance(value, str):
            errors.add(field, "must be a string")
        elif value is not None and len(value) > limit:
            errors.add(field, f"at most {limit} characters")
    input_schema = definition.get("input_schema")
    if input_schema is not None:
        _check_schema(input_schema, "input_schema", errors)
    run_limits = concurrency.check(definition, errors.add)
    run_limits.update(run_timeout.check(definition, errors.add))
    steps = definition.get("steps")
    if not isinstance(steps, list) or not steps:
        errors.add("steps", "must be a non-empty list of steps")
        raise InvalidDefinition(errors.fields)
    if len(steps) > MAX_STEPS:
        errors.add("steps", f"at most {MAX_STEPS} steps")
        raise InvalidDefinition(errors.fields)

    versions = _resolve_actions(steps, workspace)
    keys = _collect_keys(steps, errors)
    normalized = []
    previous = None
    for index, step in enumerate(steps):
        where = f"steps[{index}]"
        if not isinstance(step, dict):
            errors.add(where, "must be an object")
            continue
        kind = decisions.step_type(step, where, errors)
        for field in step.keys() - decisions.allowed_fields(kind or "action"):
            errors.add(f"{where}.{field}", "unknown field")
        if "name" in step and (not isinstance(step["name"], str) or len(step["name"]) > 200):
            errors.add(f"{where}.name", "must be a string of at most 200 characters")
        after = _check_after(step, where, previous, keys, errors)
        common = decisions.check_common(step, where, errors)
        key = step.get("key")
        if kind != "action":
            fields = decisions.check_type(kind, step, where, errors) if kind else {}
            if kind == subflows.SUBFLOW:
                fields.update(decisions.check_on_error(step, where, errors))
            normalized.append({"key": key, "type": kind, "after": after, **fields, **common})
            previous = key if isinstance(key, str) else previous
            continue
        version = _check_action(step.get("action"), f"{where}.action", versions, errors)
        step_input = step.get("input", {})
        if references.is_whole_reference(step_input):
            pass  # the whole input from one reference ("{{ input }}"): checked at run time
        elif not isinstance(step_input, dict):
            errors.add(f"{where}.input", "must be an object, or one reference like {{ input }}")
            step_input = {}
        elif version is not None:
            _check_input_against_schema(step_input, version.input_schema, f"{where}.input", errors)
        if "retry" in step:
            for field, message in validate_policy(step["retry"]).items():
                errors.add(f"{where}.retry{'.' + field if field else ''}", message)
        if "timeout_s" in step:
            _check_timeout(step["timeout_s"], f"{where}.timeout_s", errors)
        compensate = _check_compensate(step, where, versions, errors)
        clean = {
            "key": key,
            "action": version.ref if version else step.get("action"),
            "input": step_input,
            "after": after,
        }
        for optional in ("name", "retry", "timeout_s"):
            if optional in step:
                clean[optional] = step[optional]
        if compensate:
            clean["compensate"] = compensate
        clean.update(for_each.check(step, where, errors))
        clean.update(decisions.check_on_error(step, where, errors), **common)
        normalized.append(clean)
        previous = key if isinstance(key, str) else previous

    if not errors.fields:
        subflows.check_targets(normalized, workspace, slug, errors)
    if not errors.fields:
        upstream = _upstream_sets(normalized, errors)
        if not errors.fields:
            decisions.check_links(normalized, upstream, keys, RUN_FIELDS, errors)
            for index, step in enumerate(normalized):
                own = upstream[step["key"]]
                if "until" in step:  # a sleep until a time one reference gives
                    _check_references(step["until"], f"steps[{index}].until", own, keys, errors)
                if "input" not in step:
                    continue  # a switch or a wait: nothing to render
                items = "for_each" in step
                roots = for_each.ITEM_ROOTS if items else ()
                _check_references(step["input"], f"steps[{index}].input", own, keys, errors, roots)
                if items:
                    _check_references(
                        step["for_each"], f"steps[{index}].for_each", own, keys, errors
                    )
                if "compensate" in step:
                    # A compensation may read its own step's output too.
                    _check_references(
                        step["compensate"].get("input", {}),
                        f"steps[{index}].compensate.input",
                        own | {step["key"]},
                        keys,
                        errors,
                        for_each.COMPENSATION_ROOTS if items else (),
                    )
    if errors.fields:
        raise InvalidDefinition(errors.fields)
    result = {"name": definition.get("name", ""), "steps": normalized}
    if input_schema is not None:
        result["input_schema"] = input_schema
    if definition.get("description"):
        result["description"] = definition["description"]
    result.update(run_limits)
    return result


class _Errors:
    def __init__(self):
        self.fields = {}

    def add(self, field, message):
        messages = self.fields.setdefault(field, [])
        if message not in messages:
            messages.append(message)


def _collect_keys(steps, errors):
    keys = set()
    for index, step in enumerate(steps):
        key = step.get("key") if isinstance(step, dict) else None
        where = f"steps[{index}].key"
        if not isinstance(key, str) or not KEY.match(key):
            errors.add(where, "must be 1-63 lowercase letters, digits or _ and start with a letter")
        elif key in keys:
            errors.add(where, f"duplicate key {key!r}")
        else:
            keys.add(key)
    return keys


def _check_after(step, where, previous, keys, errors):
    if "after" not in step:
        return [previous] if previous else []
    after = step["after"]
    if not isinstance(after, list) or not all(isinstance(k, str) for k in after):
        errors.add(f"{where}.after", "must be a list of step keys")
        return []
    for key in after:
        if key == step.get("key"):
            errors.add(f"{where}.after", "a step cannot wait for itself")
        elif key not in keys:
            errors.add(f"{where}.after", f"unknown step {key!r}")
    return list(dict.fromkeys(after))


def _resolve_actions(steps, workspace):
    """Fetch every ActionVersion the steps and compensations name, in two queries."""
    names = set()
    for step in steps:
        if not isinstance(step, dict):
            continue
        compensate = step.get("compensate")
        compensate = compensate if isinstance(compensate, dict) else {}
        for ref in (step.get("action"), compensate.get("action")):
            match = ACTION_REF.match(ref) if isinstance(ref, str) else None
            if match:
                names.add(match["name"])
    visible = Q(workspace__isnull=True)
    if workspace is not None:
        visible |= Q(workspace=workspace)
    actions = Action.objects.filter(visible, name__in=names)
    versions = {}
    owners = {}
    # A built-in wins over a workspace action of the same name, so versions never mix.
    rows = ActionVersion.objects.filter(action__in=actions).select_related("action")
    for version in sorted(rows, key=lambda v: v.action.workspace_id is not None):
        name = version.action.name
        if owners.setdefault(name, version.action_id) != version.action_id:
            continue
        versions.setdefault(name, {})[version.version] = version
    return versions


def _check_action(ref, where, versions, errors):
    if not isinstance(ref, str) or not ACTION_REF.match(ref):
        errors.add(where, "must be an action name, optionally with @version")
        return None
    match = ACTION_REF.match(ref)
    known = versions.get(match["name"])
    if not known:
        errors.add(where, f"unknown action {match['name']!r}")
        return None
    if match["version"] is None:
        return known[max(known)]
    version = known.get(int(match["version"]))
    if version is None:
        errors.add(where, f"{match['name']} has no version {match['version']}")
    return version


def _check_compensate(step, where, versions, errors):
    if "compensate" not in step or step["compensate"] is None:
        return None
    compensate = step["compensate"]
    if not isinstance(compensate, dict):
        errors.add(f"{where}.compensate", "must be an object with an action and an input")
        return None
    for field in compensate.keys() - {"action", "input", "retry", "timeout_s"}:
        errors.add(f"{where}.compensate.{field}", "unknown field")
    version = _check_action(
        compensate.get("action"), f"{where}.compensate.action", versions, errors
    )
    comp_input = compensate.get("input", {})
    if not isinstance(comp_input, dict):
        errors.add(f"{where}.compensate.input", "must be an object")
        comp_input = {}
    elif version is not None:
        _check_input_against_schema(
            comp_input, version.input_schema, f"{where}.compensate.input", errors
        )
    if "retry" in compensate:
        for field, message in validate_policy(compensate["retry"]).items():
            errors.add(f"{where}.compensate.retry{'.' + field if field else ''}", message)
    if "timeout_s" in compensate:
        _check_timeout(compensate["timeout_s"], f"{where}.compensate.timeout_s", errors)
    clean = {"action": version.ref if version else compensate.get("action"), "input": comp_input}
    for optional in ("retry", "timeout_s"):
        if optional in compensate:
            clean[optional] = compensate[optional]
    return clean


def _check_timeout(timeout, where, errors):
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        errors.add(where, "must be a number of seconds")
    elif not 0 < timeout <= MAX_TIMEOUT_S:
        errors.add(where, f"must be between 0 and {MAX_TIMEOUT_S}")


def _upstream_sets(steps, errors):
    """Every step's transitive `after` set; reports cycles."""
    after = {step["key"]: step["after"] for step in steps}
    upstream = {}
    visiting = set()

    def walk(key, index_of_origin):
        if key in upstream:
            return upstream[key]
        if key in visiting:
            errors.add(f"steps[{index_of_origin}].after", f"cycle through step {key!r}")
            return set()
        visiting.add(key)
        found = set()
        for parent in after.get(key, []):
            found |= {parent} | walk(parent, index_of_origin)
        visiting.discard(key)
        upstream[key] = found
        return found

    for index, step in enumerate(steps):
        walk(step["key"], index)
    return upstream


def _check_references(value, where, upstream, keys, errors, roots=()):
    """`roots` are names a step may refer to besides these (a for-each item's `item`)."""
    for field, path in references.find(value):
        at = f"{where}.{field}" if field else where
        if not references.PATH.match(path):
            errors.add(at, f"{{{{ {path} }}}} is not a dotted path")
            continue
        root, _, rest = path.partition(".")
        if root == "input" or root == "secrets" and rest or root in roots:
            continue
        if root == "run":
            if rest not in RUN_FIELDS:
                errors.add(
                    at,
                    f"only {', '.join(f'run.{f}' for f in RUN_FIELDS)} can be referenced from run",
                )
            continue
        if root == "steps":
            step_key, _, tail = rest.partition(".")
            if step_key not in keys:
                errors.add(at, f"unknown step {step_key!r}")
            elif step_key not in upstream:
                errors.add(at, f"step {step_key!r} does not run before this one (add it to after)")
            elif not (tail in STEP_PARTS or tail.startswith(("output.", "error."))):
                errors.add(
                    at,
                    f"use steps.{step_key}.output, .status or .error (or a field of them)",
                )
            continue
        known = ", ".join(["input", "steps", "secrets", "run", *sorted(roots)])
        errors.add(at, f"unknown reference root {root!r}; use {known}")


def _check_input_against_schema(step_input, schema, where, errors):
    """Check what is known before the run: literal values, and required fields present.

    Fields filled by references are only known at run time, so only their presence counts.
    """
    literal = {key: value for key, value in step_input.items() if not list(references.find(value))}
    if problem := schemas.check_schema(schema):
        # Refused when an action is saved now; one saved before cannot check any input.
        errors.add(where, f"the action's input schema cannot be used: {problem}")
        return
    try:
        for error in schemas.validator_for(schema).iter_errors(literal):
            if error.validator == "required":
                missing = [m for m in error.validator_value if m not in step_input]
                for field in missing:
                    errors.add(f"{where}.{field}", "is required")
                continue
            if error.validator == "additionalProperties" and not error.path:
                extra = set(literal) - set((schema.get("properties") or {}).keys())
                for field in extra:
                    errors.add(f"{where}.{field}", "is not accepted by this action")
                continue
            path = ".".join(str(part) for part in error.absolute_path)
            errors.add(f"{where}.{path}" if path else where, error.message)
    except referencing.exceptions.Unresolvable as error:
        errors.add(where, schemas.unresolvable(error))  # a `$ref` to nothing in its schema


def _check_schema(schema, where, errors):
    if message := schemas.check_schema(schema):
        errors.add(where, message)
