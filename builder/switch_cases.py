"""The step panel's form for a switch's `cases` and `default` <-> the definition's JSON.

Each case is a row: its name, its condition (`when`, typed with the condition editor's
autocomplete) and the steps it runs (ticked step keys). Rows keep their order, because the
first case whose condition holds is the one taken: a row moves up or down with buttons.
The rows write the same JSON the text fields do (builder/decisions.py validates it); cases
the rows cannot show (not a list of {name, when, next} texts) are edited as JSON.
"""

from dataclasses import dataclass

VIEWS = ("form", "json")
MAX_ROWS = 100  # the validator allows 50 cases: more are reported, not dropped silently
FIELDS = ("name", "when", "next")


@dataclass(frozen=True)
class Row:
    index: int
    name: str
    when: str
    next: tuple  # step keys the case runs

    @property
    def blank(self):
        return not (self.name or self.when or self.next)


def rows_of(cases):
    """The cases as form rows, or None when the form cannot show them (edit as JSON)."""
    if cases is None:
        return []
    if not isinstance(cases, list):
        return None
    rows = []
    for index, case in enumerate(cases):
        if not _representable(case):
            return None
        rows.append(
            Row(index, case.get("name", ""), case.get("when", ""), tuple(case.get("next", [])))
        )
    return rows


def default_of(default):
    """The default branch's step keys, or None when the form cannot show them."""
    if default is None:
        return ()
    if isinstance(default, list) and all(isinstance(key, str) for key in default):
        return tuple(default)
    return None


def _representable(case):
    if not isinstance(case, dict) or case.keys() - set(FIELDS):
        return False
    texts = [case.get("name", ""), case.get("when", "")]
    # A text input holds one line: a name or condition written over lines stays JSON.
    if not all(isinstance(text, str) and "\n" not in text for text in texts):
        return False
    next_keys = case.get("next", [])
    return isinstance(next_keys, list) and all(isinstance(key, str) for key in next_keys)


def parse_rows(data):
    """The cases from the form rows (`case-<n>-name|when|next`), in their order.

    `case_remove` names a row the user removed, `case_move` one to move (`<n>:up` or
    `<n>:down`), `case_count` how many rows were shown. Blank rows at the end (the row
    offered for a new case) are left out; a blank row between cases stays, so each row
    keeps its index and its errors.
    """
    count = min(_number(data.get("case_count")) or 0, MAX_ROWS)
    rows = [_row(data, index) for index in range(count)]
    removed = _number(data.get("case_remove"))
    if removed is not None and 0 <= removed < len(rows):
        del rows[removed]
    moved, target = move_of(data.get("case_move"))
    if moved is not None:
        while rows and rows[-1].blank:
            rows.pop()  # a blank new row takes no part in the order
        if 0 <= moved < len(rows) and 0 <= target < len(rows):
            rows[moved], rows[target] = rows[target], rows[moved]
    while rows and rows[-1].blank:
        rows.pop()
    return [_case(row) for row in rows]


def _row(data, index):
    return Row(
        index,
        _clean(data.get(f"case-{index}-name", "")).strip(),
        _clean(data.get(f"case-{index}-when", "")).strip(),
        tuple(key for key in (_clean(k) for k in data.getlist(f"case-{index}-next")) if key),
    )


def _case(row):
    """A row as the definition writes a case: a blank name or condition is left out (the
    validator says it is required), the steps always (an empty list is a case's start)."""
    case = {}
    if row.name:
        case["name"] = row.name
    if row.when:
        case["when"] = row.when
    case["next"] = list(row.next)
    return case


def parse_default(data):
    return [key for key in (_clean(k) for k in data.getlist("default_next")) if key]


def keep_stored_order(step, stored):
    """Steps a case (or the default) already ran stay in the order they were written: the
    checkboxes list them in step order, and an unchanged switch must save unchanged. A
    case is matched to the stored one of its name (it may have moved), else of its place."""
    old_cases = stored.get("cases") if isinstance(stored.get("cases"), list) else []
    old_cases = [case if isinstance(case, dict) else {} for case in old_cases]
    by_name = {case.get("name"): case for case in old_cases if isinstance(case.get("name"), str)}
    for index, case in enumerate(step["cases"]):
        old = by_name.get(case.get("name")) or (old_cases[index] if index < len(old_cases) else {})
        case["next"] = _same_keys(case["next"], old.get("next"))
    step["default"] = _same_keys(step["default"], stored.get("default"))


def _same_keys(keys, stored):
    if isinstance(stored, list) and sorted(map(str, stored)) == sorted(keys):
        return list(stored)
    return keys


def move_of(raw):
    """(row, row it swaps with) from `<n>:up` or `<n>:down`; (None, None) for anything else."""
    index, _, way = (raw or "").partition(":")
    index = _number(index)
    if index is None or way not in ("up", "down"):
        return None, None
    return index, index - 1 if way == "up" else index + 1


def after_edit(data, cases):
    """Where focus goes after a row button redraws the panel, and what a screen reader hears.

    Moved: the moved row's same button (it stays under the user's hand). Removed: the row
    that took its place. Added: the new row's name.
    """
    moved, target = move_of(data.get("case_move"))
    if moved is not None and 0 <= target < len(cases):
        way = data["case_move"].partition(":")[2]
        name = cases[target].get("name") or f"case {target + 1}"
        return f"case-{target}-{way}", f"Moved {name} to position {target + 1}."
    removed = _number(data.get("case_remove"))
    if removed is not None:
        return f"case-{min(removed, len(cases))}-name", f"Removed case {removed + 1}."
    if data.get("case_add"):
        return f"case-{len(cases)}-name", f"Added case {len(cases) + 1}."
    return None, ""


def row_errors(messages, rows):
    """Split the `cases` slot's messages: `cases[n].when: …` goes to slot `case-n-when`
    (the condition field's own), `cases[n].name`, `.next` likewise, the rest of row n's to
    `case-n`; messages about no row stay."""
    by_row = {}
    for row in rows:
        by_row[f"case-{row.index}"] = []
        by_row |= {f"case-{row.index}-{field}": [] for field in FIELDS}
    rest = []
    for message in messages:
        head, _, tail = message.partition("]")
        index = head.removeprefix("cases[")
        if not head.startswith("cases[") or f"case-{index}" not in by_row:
            rest.append(message)
            continue
        path, _, text = tail.partition(": ")
        field = path.lstrip(".")
        if field in FIELDS:
            by_row[f"case-{index}-{field}"].append(text or message)
        else:
            by_row[f"case-{index}"].append(f"{field}: {text}" if field else text or message)
    return rest, by_row


def _clean(text):
    return text.replace("\x00", "")


def _number(raw):
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None
