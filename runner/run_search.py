"""Search runs by a field of their input: `input.customer_id = 42 and input.plan != "free"`.

The text is parsed by a small grammar of its own, never evaluated: a reference
(`input.` then dotted names), `=` or `!=`, and a JSON literal (a number, a "string" or
'string', true, false, null); clauses are joined by `and`. Anything else is refused with
a message for the form. On PostgreSQL an equality is a jsonb containment (`input @>
{"customer_id": 42}`), which the GIN index `run_input_path` answers on any number of
runs; SQLite compares the extracted value instead (no index needed at its scale).
"""

import json
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.db.models.fields.json import KeyTransform

MAX_LENGTH = 500
MAX_CLAUSES = 8
MAX_DEPTH = 8
MAX_NUMBER = 2**53  # beyond this, JSON numbers lose precision in some readers

TOKEN = re.compile(
    r"""\s*(?:
      (?P<path>input(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
    | (?P<op>!=|==|=)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<word>[A-Za-z_]+)
    | (?P<other>\S)
    )""",
    re.VERBOSE,
)


class SearchError(ValueError):
    """The search text is not one this grammar accepts; the message says why."""


@dataclass(frozen=True)
class Condition:
    path: tuple[str, ...]  # the keys under `input`
    negated: bool
    value: object  # a JSON scalar


def parse(text: str) -> list[Condition]:
    """The conditions of `text`, all of which must hold; SearchError otherwise."""
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise SearchError(f"At most {MAX_LENGTH} characters.")
    tokens = _tokens(text)
    conditions = []
    while tokens:
        if conditions:
            kind, value = tokens.pop(0)
            if (kind, value.lower()) != ("word", "and"):
                raise SearchError(f"Join conditions with and, not {value!r}.")
        conditions.append(_condition(tokens))
        if len(conditions) > MAX_CLAUSES:
            raise SearchError(f"At most {MAX_CLAUSES} conditions.")
    return conditions


def _tokens(text):
    tokens, position = [], 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None:  # only trailing blanks are left
            break
        kind = match.lastgroup
        if kind == "other":
            raise SearchError(
                f"Unexpected {match.group(kind)!r} at column {match.start(kind) + 1}."
            )
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _condition(tokens):
    if len(tokens) < 3:
        raise SearchError("Write a condition as input.field = value, e.g. input.customer_id = 42.")
    (kind, path), (op_kind, op), (value_kind, raw) = tokens[:3]
    del tokens[:3]
    if kind != "path":
        raise SearchError(f"A condition starts with input.<field>, not {path!r}.")
    keys = tuple(path.split(".")[1:])
    if len(keys) > MAX_DEPTH:
        raise SearchError(f"At most {MAX_DEPTH} levels of fields.")
    if op_kind != "op":
        raise SearchError(f"Compare with = or !=, not {op!r}.")
    return Condition(keys, op == "!=", _literal(value_kind, raw))


def _literal(kind, raw):
    if kind == "number":
        value = json.loads(raw)
        if isinstance(value, float) and value.is_integer() and "." not in raw and "e" not in raw:
            value = int(value)
        if abs(value) > MAX_NUMBER:
            raise SearchError("That number is too large.")
        return value
    if kind == "string":
        body = raw[1:-1]
        if raw[0] == "'":
            body = body.replace("\\'", "'").replace('"', '\\"')
        try:
            return json.loads(f'"{body}"')
        except json.JSONDecodeError:
            raise SearchError(f"Not a valid string: {raw}") from None
    if kind == "word" and raw in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[raw]
    if kind == "word":
        raise SearchError(f'Put text in quotes: "{raw}".')
    raise SearchError(f'Expected a value (a number, a "string", true, false or null), not {raw!r}.')


def matching(runs, conditions):
    """`runs` narrowed to those whose input meets every condition. A field that is
    missing is not equal to anything (`!=` matches it)."""
    for index, condition in enumerate(conditions):
        if connection.vendor == "postgresql":
            nested = condition.value
            for key in reversed(condition.path):
                nested = {key: nested}
            equal = Q(input__contains=nested)
            runs = runs.filter(~equal if condition.negated else equal)
            continue
        name = f"_search_{index}"  # an alias: no key can be read as a lookup's name
        expression = "input"
        for key in condition.path:
            expression = KeyTransform(key, expression)
        runs = runs.alias(**{name: expression})
        equal = Q(**{name: condition.value})
        missing = Q(**{f"{name}__isnull": True})
        if condition.value is None:  # JSON null, not a missing key
            equal &= ~missing
        runs = runs.filter((~equal | missing) if condition.negated else equal)
    return runs
