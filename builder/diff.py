"""A readable diff of two workflow definitions: steps added, removed, moved and changed.

Steps are matched by key. A changed field shows before -> after; a field holding JSON
(input, retry, compensation) shows a line diff of its pretty-printed text.
"""

import difflib
import json
from dataclasses import dataclass, field

TOP_FIELDS = ("name", "description", "input_schema", "run_timeout_s")
STEP_FIELDS = ("name", "action", "after", "input", "retry", "timeout_s", "compensate")
INLINE_CHARS = 60  # a JSON value shorter than this reads best on one line


@dataclass
class FieldChange:
    name: str
    old: object
    new: object
    lines: list = field(default_factory=list)  # [(kind, text)] kind in "+", "-", " "

    @property
    def is_block(self):
        return bool(self.lines)


@dataclass
class StepChange:
    key: str
    kind: str  # added, removed, changed, moved, same
    fields: list = field(default_factory=list)
    old_position: int | None = None
    new_position: int | None = None


@dataclass
class Diff:
    settings: list
    steps: list

    @property
    def changed(self):
        return bool(self.settings) or any(step.kind != "same" for step in self.steps)

    def count(self, kind):
        return sum(1 for step in self.steps if step.kind == kind)


def diff(old, new):
    old, new = old or {}, new or {}
    settings = [
        change
        for name in TOP_FIELDS
        if (change := _field(name, old.get(name), new.get(name))) is not None
    ]
    old_steps = _by_key(old.get("steps"))
    new_steps = _by_key(new.get("steps"))
    old_order = [key for key in old_steps if key in new_steps]
    new_order = [key for key in new_steps if key in old_steps]
    steps = []
    for position, (key, step) in enumerate(new_steps.items()):
        if key not in old_steps:
            steps.append(StepChange(key, "added", _fields({}, step), None, position))
            continue
        fields = _fields(old_steps[key], step)
        moved = old_order.index(key) != new_order.index(key)
        kind = "changed" if fields else ("moved" if moved else "same")
        old_position = list(old_steps).index(key)
        steps.append(StepChange(key, kind, fields, old_position, position))
    for position, key in enumerate(old_steps):
        if key not in new_steps:
            removed = StepChange(key, "removed", _fields(old_steps[key], {}), position, None)
            steps.insert(min(position, len(steps)), removed)
    return Diff(settings, steps)


def _by_key(steps):
    found = {}
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict):
            key = step.get("key") if isinstance(step.get("key"), str) else f"#{index + 1}"
            found.setdefault(key, step)
    return found


def _fields(old, new):
    known = [name for name in STEP_FIELDS if name in old or name in new]
    names = known + [name for name in (*old, *new) if name not in STEP_FIELDS and name != "key"]
    return [
        change
        for name in dict.fromkeys(names)
        if (change := _field(name, old.get(name), new.get(name))) is not None
    ]


def _field(name, old, new):
    if old == new:
        return None
    if max(len(_compact(old) or ""), len(_compact(new) or "")) > INLINE_CHARS:
        return FieldChange(name, _compact(old), _compact(new), _lines(old, new))
    return FieldChange(name, _compact(old), _compact(new))


def _compact(value):
    """One-line JSON for the page; None (the field is absent) stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _lines(old, new):
    before = _pretty(old).splitlines()
    after = _pretty(new).splitlines()
    lines = []
    for line in difflib.ndiff(before, after):
        if line.startswith("? "):
            continue  # ndiff's intraline hints: noise on a web page
        lines.append((line[0], line[2:]))
    return lines


def _pretty(value):
    if value is None:
        return ""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
