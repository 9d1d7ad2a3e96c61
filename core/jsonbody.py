"""Strict JSON for request bodies: only what PostgreSQL can store.

Python's json module accepts NaN and Infinity and turns 1e400 into inf; jsonb refuses all
three, and refuses U+0000 and lone surrogates in any string. A body holding them is
malformed (400) here, instead of failing later at an INSERT (500).
"""

import json
import math
import re

MAX_DEPTH = 64
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


class MalformedJSON(ValueError):
    pass


def parse(raw):
    """The value of a UTF-8 JSON document (bytes), or MalformedJSON saying why not."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJSON("the body is not UTF-8")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except MalformedJSON:
        raise
    except (ValueError, RecursionError) as error:
        raise MalformedJSON(f"not valid JSON: {error}")
    problem = unstorable(value)
    if problem:
        raise MalformedJSON(problem)
    return value


def unstorable(value):
    """Why `value` cannot be stored as jsonb (too deep, NUL, lone surrogate), or None."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return "text may not contain U+0000 or unpaired surrogates"
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, depth))
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None


def _no_constant(name):
    raise MalformedJSON(f"{name} is not JSON")


def _finite(text):
    number = float(text)
    if not math.isfinite(number):
        raise MalformedJSON(f"{text} is out of range")
    return number
