"""`{{ dotted.path }}` references inside JSON values: find them and fill them in.

No code is evaluated: a reference is a dotted path looked up in a dict. A string that
is exactly one reference takes the referenced value with its JSON type; a reference
inside a longer string is formatted into it.
"""

import json
import re

REFERENCE = re.compile(r"{{\s*([^{}]*?)\s*}}")
PATH = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+)*$")
WHOLE = re.compile(r"^\s*{{\s*([^{}]*?)\s*}}\s*$")


class MissingReference(LookupError):
    def __init__(self, path):
        super().__init__(f"nothing at {path!r}")
        self.path = path


def find(value, where=""):
    """Yield (field path, reference path) for every reference in a JSON value."""
    if isinstance(value, str):
        for match in REFERENCE.finditer(value):
            yield where, match.group(1)
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
            path = whole.group(1)
            if path.split(".", 1)[0] in keep:
                return value
            return lookup(scope, path)
        return REFERENCE.sub(lambda match: _format(match, scope, keep), value)
    if isinstance(value, dict):
        return {key: render(item, scope, keep) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, scope, keep) for item in value]
    return value


def _format(match, scope, keep):
    path = match.group(1)
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
