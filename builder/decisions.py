"""Validation of the fields that let a workflow decide: a step's `type`, `when`,
`after_any`, a switch's `cases`/`default`, and `on_error` routes.

builder/definition.py calls this module; the format is in the README ("Decisions").
A step's kind of work is a row of STEP_TYPES: the fields it takes beyond the common
ones, and the function that checks them and returns their normalized form. "action" is
checked by definition.py itself (action, input, retry, timeout, compensation).
"""

import re
from dataclasses import dataclass
from datetime import datetime

from builder import for_each, subflows
from core import expressions, references

# What every step may have, whatever its type.
COMMON_FIELDS = {"key", "name", "after", "type", "when", "after_any"}
MAX_CASES = 50
MAX_ROUTES = 20
MAX_MATCHES = 20
# `on_error` match words with a meaning of their own; anything else is an error code or class.
MATCH_WORDS = ("*", "non_retryable", "timeout")


@dataclass(frozen=True)
class StepType:
    fields: frozenset  # accepted beyond COMMON_FIELDS
    check: object = None  # (step, where, errors) -> normalized fields; None: definition.py
    targets: object = None  # (clean step) -> [(field path, [step keys])] that must follow it


def _check_switch(step, where, errors):
    cases = step.get("cases")
    clean_cases = []
    if not isinstance(cases, list) or not cases:
        errors.add(f"{where}.cases", "must be a non-empty list of cases")
        cases = []
    elif len(cases) > MAX_CASES:
        errors.add(f"{where}.cases", f"at most {MAX_CASES} cases")
        cases = []
    names = set()
    for index, case in enumerate(cases):
        at = f"{where}.cases[{index}]"
        if not isinstance(case, dict):
            errors.add(at, 'must be an object with a name, a when and a next: {"name": ...}')
            continue
        for unknown in case.keys() - {"name", "when", "next"}:
            errors.add(f"{at}.{unknown}", "unknown field; allowed: name, when, next")
        name = case.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            errors.add(f"{at}.name", "must be a name of 1-100 characters")
        elif name == "default":
            errors.add(f"{at}.name", '"default" names the default branch; pick another name')
        elif name in names:
            errors.add(f"{at}.name", f"duplicate case name {name!r}")
        else:
            names.add(name)
        if "when" not in case:
            errors.add(f"{at}.when", "is required: the condition that picks this case")
        else:
            _parse_condition(case["when"], f"{at}.when", errors)
        clean_cases.append(
            {"name": name, "when": case.get("when"), "next": _keys(case, "next", at, errors)}
        )
    clean = {"cases": clean_cases, "default": _keys(step, "default", where, errors)}
    return clean


def _switch_targets(step):
    found = [(f"cases[{i}].next", case["next"]) for i, case in enumerate(step["cases"])]
    return [*found, ("default", step["default"])]


def _action_targets(step):
    return [
        (f"on_error[{i}].next", route["next"]) for i, route in enumerate(step.get("on_error", []))
    ]


# Waits (runner/waits.py): at most 30 days, like a sleep's `for_s`.
MAX_WAIT_S = 30 * 24 * 3600
EVENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
APPROVER_ROLES = ("editor", "owner")
ON_TIMEOUT = {"event": ("fail", "continue"), "approval": ("fail", "reject", "approve")}


def _seconds(step, name, where, errors, *, required=False):
    value = step.get(name)
    if value is None:
        if required:
            errors.add(f"{where}.{name}", "is required: a number of seconds")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.add(f"{where}.{name}", "must be a number of seconds")
    elif not 0 <= value <= MAX_WAIT_S or (value == 0 and name == "timeout_s"):
        low = "above 0" if name == "timeout_s" else "0"
        errors.add(f"{where}.{name}", f"must be between {low} and {MAX_WAIT_S} (30 days)")
    else:
        return value
    return None


def _check_sleep(step, where, errors):
    has_for, has_until = "for_s" in step, "until" in step
    if has_for == has_until:
        errors.add(where, 'give either for_s (seconds) or until (a time, e.g. "{{ input.at }}")')
        return {}
    if has_for:
        for_s = _seconds(step, "for_s", where, errors, required=True)
        return {} if for_s is None else {"for_s": for_s, **check_on_error(step, where, errors)}
    until = step["until"]
    if isinstance(until, str) and references.is_whole_reference(until):
        return {"until": until, **check_on_error(step, where, errors)}
    if not isinstance(until, str) or not _is_iso_time(until):
        errors.add(
            f"{where}.until",
            'must be an ISO 8601 time ("2026-12-01T09:00:00Z") or one reference ("{{ input.at }}")',
        )
        return {}
    return {"until": until}


def _is_iso_time(text):
    try:
        datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _check_timeout_policy(kind, step, where, errors):
    clean = {}
    timeout = _seconds(step, "timeout_s", where, errors)
    if timeout is not None:
        clean["timeout_s"] = timeout
    policy = step.get("on_timeout", "fail")
    allowed = ON_TIMEOUT[kind]
    if policy not in allowed:
        errors.add(f"{where}.on_timeout", f"must be one of: {', '.join(allowed)}")
    elif policy != "fail":
        if "timeout_s" not in step:
            errors.add(f"{where}.on_timeout", "has no effect without timeout_s")
        clean["on_timeout"] = policy
    return clean


def _check_event(step, where, errors):
    name = step.get("event")
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        errors.add(
            f"{where}.event",
            "is required: the event's name, 1-100 letters, digits, _ . or - (payment_received)",
        )
    clean = {"event": name, **_check_timeout_policy("event", step, where, errors)}
    return {**clean, **check_on_error(step, where, errors)}


def _check_approval(step, where, errors):
    role = step.get("role", "editor")
    if role not in APPROVER_ROLES:
        errors.add(
            f"{where}.role",
            f"must be one of: {', '.join(APPROVER_ROLES)} (members of it or higher decide)",
        )
    clean = {"role": role, **_check_timeout_policy("approval", step, where, errors)}
    return {**clean, **check_on_error(step, where, errors)}


# type -> what it takes. Another kind of step adds its row here.
STEP_TYPES = {
    "action": StepType(
        fields=frozenset({"action", "input", "retry", "timeout_s", "compensate", "on_error"})
        | for_each.FIELDS,
        targets=_action_targets,
    ),
    "switch": StepType(
        fields=frozenset({"cases", "default"}), check=_check_switch, targets=_switch_targets
    ),
    # A child run of another workflow of the workspace (builder/subflows.py).
    subflows.SUBFLOW: StepType(
        fields=frozenset({"workflow", "version", "input", "on_error"}),
        check=subflows.check_step,
        targets=_action_targets,
    ),
    # Waits: a timeout (or a sleep's unusable `until`) is a failure `on_error` can route.
    "sleep": StepType(
        fields=frozenset({"for_s", "until", "on_error"}),
        check=_check_sleep,
        targets=_action_targets,
    ),
    "event": StepType(
        fields=frozenset({"event", "timeout_s", "on_timeout", "on_error"}),
        check=_check_event,
        targets=_action_targets,
    ),
    "approval": StepType(
        fields=frozenset({"role", "timeout_s", "on_timeout", "on_error"}),
        check=_check_approval,
        targets=_action_targets,
    ),
}


def step_type(step, where, errors):
    """The step's type ("action" when not given), or None when it is not one we know."""
    kind = step.get("type", "action")
    if kind not in STEP_TYPES:
        allowed = ", ".join(STEP_TYPES)
        errors.add(f"{where}.type", f"unknown type {kind!r}; allowed: {allowed}")
        return None
    return kind


def allowed_fields(kind):
    return COMMON_FIELDS | STEP_TYPES[kind].fields


def check_common(step, where, errors):
    """`when` and `after_any`, normalized: only what differs from the defaults is kept."""
    clean = {}
    when = step.get("when")
    if when is not None and _parse_condition(when, f"{where}.when", errors) is not None:
        clean["when"] = when.strip()
    if "after_any" in step:
        if not isinstance(step["after_any"], bool):
            errors.add(f"{where}.after_any", "must be true or false")
        elif step["after_any"]:
            clean["after_any"] = True
    return clean


def check_type(kind, step, where, errors):
    checker = STEP_TYPES[kind].check
    return checker(step, where, errors) if checker else {}


def check_on_error(step, where, errors):
    """`on_error` routes, normalized; {} when the step has none."""
    routes = step.get("on_error")
    if routes is None or routes == []:
        return {}
    if not isinstance(routes, list) or len(routes) > MAX_ROUTES:
        errors.add(
            f"{where}.on_error",
            f'must be a list of at most {MAX_ROUTES} routes: [{{"match": ["*"], "next": [...]}}]',
        )
        return {}
    clean = []
    for index, route in enumerate(routes):
        at = f"{where}.on_error[{index}]"
        if not isinstance(route, dict):
            errors.add(at, 'must be an object: {"match": [...], "next": [...]}')
            continue
        for unknown in route.keys() - {"match", "next"}:
            errors.add(f"{at}.{unknown}", "unknown field; allowed: match, next")
        match = route.get("match")
        if (
            not isinstance(match, list)
            or not match
            or len(match) > MAX_MATCHES
            or not all(isinstance(m, str) and 0 < len(m.strip()) <= 200 for m in match)
        ):
            errors.add(
                f"{at}.match",
                f"must be a list of 1-{MAX_MATCHES} of: {', '.join(MATCH_WORDS)}, "
                "or an error code or class name",
            )
            match = []
        next_keys = _keys(route, "next", at, errors)
        if "next" in route and not next_keys:
            errors.add(f"{at}.next", "must name at least one handler step")
        elif "next" not in route:
            errors.add(f"{at}.next", "is required: the handler steps to run")
        clean.append({"match": [m.strip() for m in match], "next": next_keys})
    return {"on_error": clean}


def check_links(steps, upstream, keys, run_fields, errors):
    """After every step is normalized and the graph has no cycle: conditions refer only to
    what runs before, and every step a switch case or an error route names follows it."""
    for index, step in enumerate(steps):
        where = f"steps[{index}]"
        own = upstream[step["key"]]
        if "when" in step:
            _check_condition_references(
                step["when"], f"{where}.when", own, keys, run_fields, errors
            )
        for case_index, case in enumerate(step.get("cases", [])):
            if isinstance(case.get("when"), str):
                at = f"{where}.cases[{case_index}].when"
                _check_condition_references(case["when"], at, own, keys, run_fields, errors)
        kind = STEP_TYPES[step.get("type", "action")]
        if kind.targets is None:
            continue
        after = {s["key"]: s["after"] for s in steps}
        for at, targets in kind.targets(step):
            for target in targets:
                if target not in keys:
                    errors.add(f"{where}.{at}", f"unknown step {target!r}")
                elif target == step["key"]:
                    errors.add(f"{where}.{at}", "a step cannot lead to itself")
                elif step["key"] not in after[target]:
                    errors.add(
                        f"{where}.{at}",
                        f"step {target!r} must list {step['key']!r} in its after",
                    )


def _check_condition_references(text, where, upstream, keys, run_fields, errors):
    try:
        expression = expressions.parse(text)
    except expressions.ExpressionError:
        return  # reported when the step was checked
    for path, position in expression.references:
        column = f"(at column {position + 1})"
        root, _, rest = path.partition(".")
        if root == "run":
            if rest not in run_fields:
                allowed = ", ".join(f"run.{f}" for f in run_fields)
                errors.add(where, f"{path}: only {allowed} can be referenced from run {column}")
            continue
        if root != "steps":
            continue  # input.*: checked at run time; a missing path is null
        step_key, _, tail = rest.partition(".")
        head = tail.split(".", 1)[0]
        if step_key not in keys:
            errors.add(where, f"{path}: unknown step {step_key!r} {column}")
        elif step_key not in upstream:
            errors.add(
                where,
                f"{path}: step {step_key!r} does not run before this one (add it to after) {column}",
            )
        elif head not in ("output", "status", "error") or head == "status" and "." in tail:
            errors.add(
                where,
                f"{path}: use steps.{step_key}.output, .status or .error (and their fields) {column}",
            )


def _parse_condition(text, where, errors):
    if not isinstance(text, str) or not text.strip():
        errors.add(where, "must be a condition, e.g. steps.check.output.total > 100")
        return None
    try:
        return expressions.parse(text)
    except expressions.ExpressionError as error:
        errors.add(where, str(error))
        return None


def _keys(container, name, where, errors):
    value = container.get(name, [])
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        errors.add(f"{where}.{name}", "must be a list of step keys")
        return []
    return list(dict.fromkeys(value))
