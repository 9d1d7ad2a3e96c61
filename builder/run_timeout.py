"""A definition's run-level time limit, `run_timeout_s` (checked here; each run gets a
`deadline` when it starts, `deadline_of`, and the sweeper ends the runs past theirs:
runner/run_ending.py `time_out_run`).

    "run_timeout_s": 3600        # the whole run, from its start: at most one hour
"""

from datetime import timedelta

MAX_RUN_TIMEOUT_S = 30 * 86400
FIELD = "run_timeout_s"


def deadline_of(definition, started_at):
    """When a run of `definition` started at `started_at` runs out of time, or None."""
    seconds = definition.get(FIELD)
    return started_at + timedelta(seconds=seconds) if seconds else None


def check(definition, add):
    """Call `add(field path, message)` for a bad value; return the normalized field."""
    value = definition.get(FIELD)
    if value is None:
        return {}
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_RUN_TIMEOUT_S:
        add(FIELD, f"a whole number of seconds from 1 to {MAX_RUN_TIMEOUT_S:,} (30 days)")
        return {}
    return {FIELD: value}


def from_form(post, draft):
    """The builder's settings field into `draft`: empty removes the limit; text that is not
    a whole number is kept as typed, for the validator to point at."""
    text = post.get(FIELD, "").strip()
    if not text:
        draft.pop(FIELD, None)
    else:
        draft[FIELD] = int(text) if text.isdigit() and len(text) < 10 else text


def form_value(draft):
    value = draft.get(FIELD)
    return "" if value is None else str(value)
