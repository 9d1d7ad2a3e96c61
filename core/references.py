"""`{{ dotted.path }}` references inside JSON values: find them and fill them in.

No code is evaluated: a reference is a dotted path looked up in a dict. A string that
is exactly one reference takes the referenced value with its JSON type; a reference
inside a longer string is formatted into it.
"""

import json
import re

# Linear on any text: no two quantifiers compete for the same characters (a lazy path
# between `\s*`s took seconds on "{{" and a few thousand spaces); `_path` strips instead.
REFERENCE = re.compile(r"{{([^{}]*)}}")
PATH = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+)*$")
WHOLE = re.compile(r"^\s*{{([^{}]*)}}\s*$")


class MissingReference(LookupError):
    def __init__(self, path):
        super().__init__(f"nothing at {path!r}")
        self.path = path


def find(value, where=""):
    """Yield (field path, reference path) for every reference in a JSON value."""
    if isinstance(value, str):
        for match in REFERENCE.finditer(value):
            yield where, _path(match)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from find(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from find(item, f"{where}[{index}]")


def is_whole_reference(value):
    return isinstance(value, str) and WHOLE.match(value) is not None


def render(value, scope, keep=()):
    """Fill references from `scope`. Roots listed in `keep` are left as written."""
    if isinstance(value, str):
        whole = WHOLE.match(value)
        if whole:
            path = _path(whole)
            if path.split(".", 1)[0] in keep:
                return value
            return lookup(scope, path)
        return REFERENCE.sub(lambda match: _format(match, scope, keep), value)
    if isinstance(value, dict):
        return {key: render(item, scope, keep) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, scope, keep) for item in value]
    return value


def context(*, input, run, steps):
    """The scope references and conditions are resolved against.

    `steps` yields (key, status, output, error) of the steps that finished: each is
    `steps.<key>.status` and `.output` (null unless it succeeded), and `.error` once it
    failed, so that an error handler reads `steps.<key>.error.message`.
    """
    scope = {"input": input, "run": run, "steps": {}}
    for key, status, output, error in steps:
        entry = {"status": status, "output": output if status == "succeeded" else None}
        if error is not None:
            entry["error"] = error
        scope["steps"][key] = entry
    return scope


def _path(match):
    return match.group(1).strip()


def _format(match, scope, keep):
    path = _path(match)
    if path.split(".", 1)[0] in keep:
        return match.group(0)
    found = lookup(scope, path)
    return found if isinstance(found, str) else json.dumps(found)


def lookup(scope, path):
    current = scope
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise MissingReference(path)
    return current


def secret_slots(template, scope, path=()):
    """Where `template` itself writes a secret: [(path, segments)], for `fill_secrets`.

    Only the definition's own strings can ask for a secret. A value that arrives through
    `input` or a step output is never scanned again, so a webhook body that contains the
    text `{{ secrets.TOKEN }}` stays that text. Each segment is ("text", str) — literal
    text or a non-secret reference already filled in — or ("secret", NAME).
    """
    if isinstance(template, str):
        if not any(ref.strip().startswith("secrets.") for ref in REFERENCE.findall(template)):
            return []
        segments, end = [], 0
        for match in REFERENCE.finditer(template):
            segments.append(("text", template[end : match.start()]))
            ref = _path(match)
            if ref.startswith("secrets."):
                segments.append(("secret", ref.split(".", 1)[1]))
            else:
                segments.append(("text", _format(match, scope, ())))
            end = match.end()
        segments.append(("text", template[end:]))
        return [(list(path), [list(s) for s in segments if s != ("text", "")])]
    if isinstance(template, dict):
        items = template.items()
    elif isinstance(template, list):
        items = enumerate(template)
    else:
        return []
    return [slot for key, item in items for slot in secret_slots(item, scope, (*path, key))]


def fill_secrets(rendered, slots, secrets):
    """A copy of the rendered input with each secret slot filled from `secrets`."""
    filled = json.loads(json.dumps(rendered))
    for path, segments in slots:
        parts = []
        for kind, value in segments:
            if kind == "secret":
                if value not in secrets:
                    raise MissingReference(f"secrets.{value}")
                parts.append(secrets[value])
            else:
                parts.append(value)
        text = "".join(parts)
        if not path:
            return text
        target = filled
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = text
    return filled
