"""The run limits of a definition: `max_concurrent_runs` and `concurrency` (checked here,
enforced by runner/run_gate.py).

    "max_concurrent_runs": 2,                                  # the rest wait, in order
    "concurrency": {"key": "{{ input.customer_id }}", "limit": 1}   # per key value
"""

from core import references

FIELDS = ("max_concurrent_runs", "concurrency")
SLOTS = ("max_concurrent_runs", "concurrency")  # the builder's error slots
CONCURRENCY_FIELDS = {"key", "limit"}
MAX_LIMIT = 10_000


def check(definition, add):
    """Call `add(field path, message)` for each problem; return the normalized fields."""
    clean = {}
    most = definition.get("max_concurrent_runs")
    if most is not None:
        if _count(most):
            clean["max_concurrent_runs"] = most
        else:
            add("max_concurrent_runs", f"a whole number from 1 to {MAX_LIMIT:,}")
    concurrency = definition.get("concurrency")
    if concurrency is None:
        return clean
    if not isinstance(concurrency, dict):
        add("concurrency", 'an object: {"key": "{{ input.customer_id }}", "limit": 1}')
        return clean
    for field in concurrency.keys() - CONCURRENCY_FIELDS:
        add(f"concurrency.{field}", "unknown field; allowed: key, limit")
    key = concurrency.get("key")
    if not references.is_whole_reference(key):
        add("concurrency.key", "one reference to the run input, like {{ input.customer_id }}")
    elif not next(references.find(key))[1].startswith("input."):
        add("concurrency.key", "a key refers to the run input: {{ input.something }}")
    limit = concurrency.get("limit", 1)
    if not _count(limit):
        add("concurrency.limit", f"a whole number from 1 to {MAX_LIMIT:,}")
    clean["concurrency"] = {"key": key, "limit": limit}
    return clean


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_LIMIT


def from_form(post, draft):
    """The builder's settings fields into `draft`: an empty field removes its setting; a
    number that is not one is kept as typed, for the validator to point at."""
    most = post.get("max_concurrent_runs", "").strip()
    if most:
        draft["max_concurrent_runs"] = _number(most)
    else:
        draft.pop("max_concurrent_runs", None)
    key = post.get("concurrency_key", "").strip()
    if key:
        limit = post.get("concurrency_limit", "").strip()
        draft["concurrency"] = {"key": key, "limit": _number(limit) if limit else 1}
    else:
        draft.pop("concurrency", None)


def form_values(draft):
    """What the settings fields show of `draft`."""
    concurrency = draft.get("concurrency") if isinstance(draft.get("concurrency"), dict) else {}
    return {
        "max_concurrent_runs": _text(draft.get("max_concurrent_runs")),
        "concurrency_key": _text(concurrency.get("key")),
        "concurrency_limit": _text(concurrency.get("limit")) if concurrency else "",
    }


def slot_errors(fields):
    """The validator's errors for the builder's two slots: every `concurrency.*` one goes
    under the key's field, named ("limit: a whole number ...")."""
    found = {"max_concurrent_runs": list(fields.get("max_concurrent_runs", []))}
    found["concurrency"] = []
    for path, messages in fields.items():
        if path == "concurrency" or path.startswith("concurrency."):
            detail = path.partition(".")[2]
            found["concurrency"] += [f"{detail}: {m}" if detail else m for m in messages]
    return found


def _number(text):
    return int(text) if text.isdigit() and len(text) < 10 else text


def _text(value):
    return "" if value is None else str(value)
