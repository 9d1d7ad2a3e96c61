"""The run limits of a definition: `max_concurrent_runs` and `concurrency` (checked here,
enforced by runner/run_gate.py).

    "max_concurrent_runs": 2,                                  # the rest wait, in order
    "concurrency": {"key": "{{ input.customer_id }}", "limit": 1}   # per key value
"""

from core import references

FIELDS = ("max_concurrent_runs", "concurrency")
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
