"""Hide secret values in data (outputs, errors, inputs, log lines) before anything shows it.

Masking works on values, never on rendered text: `mask` walks a JSON value and replaces
secrets inside its strings only. Dict keys stay as they are, and callers pass only the data
fields (a run's input, output, error), never a page or an answer with its own fields, so a
secret that happens to read `span` or `failed` cannot break a page's markup or an answer's
status, nor reveal itself by doing so.

An action quoting a secret may have escaped it first (an exception's repr, a JSON body, a
URL, HTML): each of those spellings is masked too.
"""

import html
import json
import re
from functools import lru_cache
from urllib.parse import quote, quote_plus

MASK = "***"
# A secret shorter than this would turn ordinary words into masks (and reveal itself by
# the pattern); four characters is the shortest a real token or password has.
MIN_LENGTH = 4


def mask(value, secrets):
    """A copy of the JSON `value` with every spelling of every secret in its strings masked.

    Parameters:
      value: any JSON value (dict, list, str, number, bool, None).
      secrets: the secret values (an iterable of str), e.g. `Secret.values_of(...).values()`.
    """
    pattern = _pattern(tuple(sorted(set(secrets or ()))))
    if pattern is None:
        return value
    return _walk(value, pattern)


def _walk(value, pattern):
    if isinstance(value, str):
        return pattern.sub(MASK, value)
    if isinstance(value, dict):
        return {key: _walk(item, pattern) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(item, pattern) for item in value]
    return value


@lru_cache(maxsize=32)
def _pattern(secrets):
    """One regular expression for all spellings, longest first, so that one pass masks a
    secret inside another without matching the masks it wrote."""
    forms = {form for secret in secrets if len(secret) >= MIN_LENGTH for form in spellings(secret)}
    if not forms:
        return None
    return re.compile("|".join(map(re.escape, sorted(forms, key=len, reverse=True))))


def spellings(secret):
    """The ways a secret appears in text: as is, repr-quoted, JSON-escaped, URL-escaped,
    HTML-escaped, and the usual two-level mixes (a JSON body inside an exception's repr)."""
    encoders = [
        lambda s: repr(s)[1:-1],
        # Inside a longer string holding both quotes, repr escapes ' as well.
        lambda s: repr(s + '"')[1:-2],
        lambda s: json.dumps(s)[1:-1],
        lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
        lambda s: quote(s, safe=""),
        quote,
        quote_plus,
        html.escape,
        lambda s: html.escape(s, quote=False),
    ]
    first = {secret} | {encode(secret) for encode in encoders}
    return first | {encode(form) for form in first for encode in encoders[:4]}
