"""The step panel's form for `on_error` routes <-> the definition's JSON.

Each route is a row: the failures it matches (ticked words, plus error codes or class
names typed comma-separated) and the handler steps it runs (ticked step keys). The rows
write the same JSON the text field does (builder/decisions.py validates it); a value the
rows cannot show (not a list of {match, next}) is edited as JSON.
"""

from dataclasses import dataclass

# Match words the form offers as checkboxes, in the order they are written. `*` matches
# any failure; `wait_timeout` and `child_failed` are the codes of a wait's timeout
# (runner/waits.py) and of a failed child run (runner/subflows.py).
WORDS = (
    ("non_retryable", "not retryable"),
    ("timeout", "timed out"),
    ("wait_timeout", "a wait timed out"),
    ("child_failed", "a child run failed"),
    ("*", "every failure: *"),
)
VIEWS = ("form", "json")


@dataclass(frozen=True)
class Row:
    index: int
    words: tuple  # ticked match words
    codes: str  # other matches, comma-separated
    next: tuple  # handler step keys


def rows_of(routes):
    """The routes as form rows, or None when the form cannot show them (edit as JSON)."""
    if routes is None:
        return []
    if not isinstance(routes, list):
        return None
    rows = []
    for index, route in enumerate(routes):
        if not _representable(route):
            return None
        words = tuple(word for word, _ in WORDS if word in route["match"])
        codes = ", ".join(m for m in route["match"] if m not in dict(WORDS))
        rows.append(Row(index, words, codes, tuple(route["next"])))
    return rows


def _representable(route):
    if not isinstance(route, dict) or route.keys() - {"match", "next"}:
        return False
    match, next_keys = route.get("match", []), route.get("next", [])
    texts = isinstance(match, list) and isinstance(next_keys, list)
    return texts and all(isinstance(item, str) and "," not in item for item in match + next_keys)


def parse_rows(data):
    """The routes from the form rows (`route-<n>-match|codes|next`), blank rows left out.

    `route_remove` names a row the user removed; `route_count` how many rows were shown.
    """
    count = _number(data.get("route_count")) or 0
    removed = _number(data.get("route_remove"))
    routes = []
    for index in range(min(count, 100)):
        if index == removed:
            continue
        words = set(data.getlist(f"route-{index}-match"))
        match = [word for word, _ in WORDS if word in words]
        codes = data.get(f"route-{index}-codes", "").replace("\x00", "")
        match += [code.strip() for code in codes.split(",") if code.strip()]
        next_keys = [key for key in data.getlist(f"route-{index}-next") if key]
        if match or next_keys:
            routes.append({"match": match, "next": next_keys})
    return routes


def row_errors(messages, rows):
    """Split the `on_error` slot's messages: `on_error[n]…` ones go to row n's slot."""
    by_row = {f"on_error-{row.index}": [] for row in rows}
    rest = []
    for message in messages:
        head, _, tail = message.partition("]")
        slot = f"on_error-{head.removeprefix('on_error[')}"
        if head.startswith("on_error[") and slot in by_row:
            by_row[slot].append(tail.lstrip(".:").strip() or message)
        else:
            rest.append(message)
    return rest, by_row


def _number(raw):
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None
