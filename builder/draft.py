"""Edits of a workflow draft, as the builder makes them: pure functions over the JSON.

A draft may be invalid at any moment (the user is mid-edit); these functions never
refuse a draft for being invalid, they only keep its shape (`steps` is a list of
objects) so the canvas can always be drawn. Every function returns a new draft.
"""

import copy
import re


def steps_of(draft):
    steps = draft.get("steps") if isinstance(draft, dict) else None
    if not isinstance(steps, list):
        return []
    return [copy.deepcopy(step) for step in steps if isinstance(step, dict)]


def with_steps(draft, steps):
    draft = copy.deepcopy(draft) if isinstance(draft, dict) else {}
    draft["steps"] = steps
    return draft


def key_of(step):
    key = step.get("key")
    return key if isinstance(key, str) else ""


def new_key(steps, action_name):
    """`http.request` -> `http_request`, then `http_request_2`, ... unused in `steps`."""
    base = re.sub(r"[^a-z0-9_]+", "_", action_name.lower()).strip("_") or "step"
    if not base[0].isalpha():
        base = f"step_{base}"
    base = base[:56]
    taken = {key_of(step) for step in steps}
    if base not in taken:
        return base
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


# What the palette's engine steps start as: each field there to edit (a switch's
# conditions and a sub-workflow's choice are the user's to fill: the panel says so).
FLOW_STARTERS = {
    "switch": {"cases": [{"when": 'input.kind == "a"', "next": []}], "default": []},
    "workflow": {"workflow": "", "version": "latest", "input": {}},
    "sleep": {"for_s": 60},
    "event": {"event": "event_name", "timeout_s": 3600},
    "approval": {"role": "editor", "timeout_s": 86400},
}
FLOW_PREFIX = "flow:"  # how the palette names them where it names actions (`flow:sleep`)


def flow_kind(ref):
    """ "sleep" for the palette's `flow:sleep`; None for anything else."""
    if isinstance(ref, str) and ref.startswith(FLOW_PREFIX):
        kind = ref.removeprefix(FLOW_PREFIX)
        return kind if kind in FLOW_STARTERS else None
    return None


def new_step(steps, what):
    """A step running an ActionVersion, or an engine step of the kind named (`"sleep"`)."""
    if isinstance(what, str):
        return {"key": new_key(steps, what), "type": what, **copy.deepcopy(FLOW_STARTERS[what])}
    return {
        "key": new_key(steps, what.action.name),
        "action": what.ref,
        "input": starter_input(what.input_schema),
    }


def add_step(draft, what, position=None):
    """Insert a step running `what` (an ActionVersion, or an engine step's kind) at `position`
    (default: the end)."""
    steps = steps_of(draft)
    step = new_step(steps, what)
    if position is None or not 0 <= position <= len(steps):
        position = len(steps)
    steps.insert(position, step)
    return with_steps(draft, tidy_after(steps)), position


def starter_input(schema):
    """The required fields of an input schema, each with its default or an empty value."""
    if not isinstance(schema, dict):
        return {}
    properties = schema.get("properties") or {}
    empty = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}
    starter = {}
    for name in schema.get("required") or []:
        spec = properties.get(name) or {}
        if "default" in spec:
            starter[name] = spec["default"]
        else:
            starter[name] = empty.get(spec.get("type"), "")
    return starter


def move_step(draft, index, delta):
    steps = steps_of(draft)
    target = index + delta
    if not (0 <= index < len(steps) and 0 <= target < len(steps)):
        return with_steps(draft, steps)
    steps.insert(target, steps.pop(index))
    return with_steps(draft, tidy_after(steps))


def reorder(draft, order):
    """Put the steps in `order` (a permutation of their current indices)."""
    steps = steps_of(draft)
    if sorted(order) != list(range(len(steps))):
        raise ValueError("the order must list every step exactly once")
    return with_steps(draft, tidy_after([steps[index] for index in order]))


def remove_step(draft, index):
    steps = steps_of(draft)
    if not 0 <= index < len(steps):
        return with_steps(draft, steps)
    removed = key_of(steps.pop(index))
    for step in steps:
        after = step.get("after")
        if isinstance(after, list) and removed in after:
            step["after"] = [key for key in after if key != removed]
    return with_steps(draft, tidy_after(steps))


def replace_step(draft, index, step):
    steps = steps_of(draft)
    steps[index] = step
    return with_steps(draft, tidy_after(steps))


def tidy_after(steps):
    """Drop an explicit `after` that says what the order already says (the previous step).

    An explicit `after` is kept only where the user drew parallel branches, so a later
    reorder moves an ordinary step along with its new neighbours.
    """
    previous = None
    for step in steps:
        if "after" in step and step["after"] == ([previous] if previous else []):
            del step["after"]
        previous = key_of(step) or previous
    return steps


def effective_after(steps):
    """Each step's `after`, the default (the previous step) filled in, unknown keys dropped."""
    keys = {key_of(step) for step in steps}
    result, previous = [], None
    for step in steps:
        after = step.get("after")
        if isinstance(after, list):
            after = [key for key in after if isinstance(key, str) and key in keys]
        else:
            after = [previous] if previous else []
        result.append(after)
        previous = key_of(step) or previous
    return result


def upstream_keys(steps, index):
    """Keys of every step that surely finishes before step `index` starts."""
    after = effective_after(steps)
    index_of = {}
    for position, step in enumerate(steps):
        index_of.setdefault(key_of(step), position)
    seen, todo = set(), list(after[index])
    while todo:
        key = todo.pop()
        if key in seen or index_of.get(key) == index:
            continue
        seen.add(key)
        todo.extend(after[index_of[key]])
    return [key_of(step) for step in steps if key_of(step) in seen]


def rename_key(draft, old, new):
    """Follow a step's new key in the other steps' `after` and `{{ steps.<key>... }}`."""
    steps = steps_of(draft)
    pattern = re.compile(r"({{\s*steps\.)" + re.escape(old) + r"(?=[.\s}])")

    def rewrite(value):
        if isinstance(value, str):
            return pattern.sub(lambda match: match.group(1) + new, value)
        if isinstance(value, dict):
            return {key: rewrite(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        return value

    for step in steps:
        if isinstance(step.get("after"), list):
            step["after"] = [new if key == old else key for key in step["after"]]
        if "input" in step:
            step["input"] = rewrite(step["input"])
        if isinstance(step.get("compensate"), dict) and "input" in step["compensate"]:
            step["compensate"]["input"] = rewrite(step["compensate"]["input"])
    return with_steps(draft, steps)
