"""The step panel's form data <-> a draft step, keeping whatever the user typed.

Autosave must never lose an edit, even an invalid one: a number field holding "abc"
is stored as the string "abc" and JSON that does not parse is stored as its text. The
definition validator then reports them, and the panel shows the text as typed.
"""

import json

from builder import error_routes, switch_cases
from core import jsonbody, references

RETRY_FIELDS = (
    "max_attempts", "initial_interval_s", "backoff_coefficient", "max_interval_s", "budget_s",
)  # fmt: skip
DECISION_SLOTS = ("type", "when", "after_any", "on_error", "cases", "default")
FOR_EACH_SLOTS = ("for_each", "max_concurrency", "on_item_failure")
WAIT_SLOTS = ("for_s", "until", "event", "role", "on_timeout")
# A wait's own fields, by type (builder/decisions.py checks them).
WAIT_FIELDS = {
    "sleep": ("for_s", "until"),
    "event": ("event", "timeout_s", "on_timeout"),
    "approval": ("role", "timeout_s", "on_timeout"),
}
NUMBERS = ("for_s", "timeout_s")


def parse_json_field(text, where, errors, empty=None):
    """Parsed JSON, or the text itself (with an error at `where`) when it does not parse.

    Parsed as strictly as request bodies are (no NaN, no NUL, bounded depth), so whatever
    is stored can be stored. Empty text is `empty` ({} unless given).
    """
    text = clean(text)
    if not text.strip():
        return {} if empty is None else empty
    if references.is_whole_reference(text.strip()):
        return text.strip()  # the whole input from one reference, shown as typed: {{ input }}
    try:
        return jsonbody.parse(text.encode())
    except jsonbody.MalformedJSON as error:
        errors.setdefault(where, []).append(str(error))
        return text


def clean(text):
    """Form text without NUL characters, which a JSON column cannot hold."""
    return text.replace("\x00", "")


def parse_number(text):
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if number == number and abs(number) != float("inf") else text


def parse_step(data, index, previous_key, stored=None):
    """Return (step, errors) from the panel's POST data for the step at `index`.

    `stored` is the step as saved before, so that what the user left alone stays written
    as it was: the checkboxes list `after` in step order, and a policy that never named
    `jitter` (the panel shows the default, on) does not gain one.
    """
    where = f"steps[{index}]"
    errors = {}
    stored = stored if isinstance(stored, dict) else {}
    kind = _text(data, "type") or "action"
    if kind != "action":
        step = {"key": _text(data, "key"), "type": kind}
    else:
        step = {"key": _text(data, "key"), "action": _text(data, "action")}
    if name := _text(data, "name"):
        step["name"] = name
    if kind == "switch":
        _parse_switch(data, step, stored, where, errors)
    elif kind == "workflow":
        step["workflow"] = _text(data, "workflow")
        version = _text(data, "version") or "latest"
        step["version"] = "latest" if version == "latest" else parse_number(version)
        step["input"] = parse_json_field(data.get("input", ""), f"{where}.input", errors)
        _parse_on_error(data, step, where, errors)
    elif kind == "action":
        step["input"] = parse_json_field(data.get("input", ""), f"{where}.input", errors)
    elif kind in WAIT_FIELDS:
        _parse_wait(data, step, kind, where, errors)
    _parse_decisions(data, step, kind, where, errors)
    if data.get("after_mode") == "custom":
        step["after"] = [clean(key) for key in data.getlist("after") if clean(key)]
        stored_after = stored.get("after")
        if isinstance(stored_after, list) and sorted(map(str, stored_after)) == sorted(
            step["after"]
        ):
            step["after"] = stored_after
    if kind != "action":
        return _default_after(step, previous_key), errors
    if retry := _parse_retry(data, "retry_", stored.get("retry")):
        step["retry"] = retry
    if (timeout := parse_number(_text(data, "timeout_s"))) is not None:
        step["timeout_s"] = timeout
    compensate_action = _text(data, "compensate_action")
    if compensate_action:
        compensate = {
            "action": compensate_action,
            "input": parse_json_field(
                data.get("compensate_input", ""), f"{where}.compensate.input", errors
            ),
        }
        stored_compensate = stored.get("compensate")
        stored_retry = (
            stored_compensate.get("retry") if isinstance(stored_compensate, dict) else None
        )
        if retry := _parse_retry(data, "compensate_retry_", stored_retry):
            compensate["retry"] = retry
        if (timeout := parse_number(_text(data, "compensate_timeout_s"))) is not None:
            compensate["timeout_s"] = timeout
        step["compensate"] = compensate
    _parse_on_error(data, step, where, errors)
    _parse_for_each(data, step)
    return _default_after(step, previous_key), errors


def _parse_for_each(data, step):
    """`for_each` as typed; its concurrency and failure mode only with it (none: defaults)."""
    source = _text(data, "for_each")
    if not source:
        return
    step["for_each"] = source
    if (limit := parse_number(_text(data, "max_concurrency"))) is not None:
        step["max_concurrency"] = limit
    if mode := _text(data, "on_item_failure"):
        step["on_item_failure"] = mode


def _parse_wait(data, step, kind, where, errors):
    """A wait's fields as typed (numbers when they are); the default `on_timeout` ("fail")
    and empty fields are left out, as the validator writes them."""
    for field in WAIT_FIELDS[kind]:
        text = _text(data, field)
        if not text or (field == "on_timeout" and text == "fail"):
            continue
        step[field] = parse_number(text) if field in NUMBERS else text
    _parse_on_error(data, step, where, errors)


def _parse_switch(data, step, stored, where, errors):
    """`cases` and `default` from the panel's case rows, or from their JSON text (the
    default, as an API client or the JSON view writes them)."""
    if data.get("cases_view") == "form":
        step["cases"] = switch_cases.parse_rows(data)
        step["default"] = switch_cases.parse_default(data)
        switch_cases.keep_stored_order(step, stored)
    else:
        step["cases"] = parse_json_field(data.get("cases", ""), f"{where}.cases", errors, [])
        step["default"] = parse_json_field(data.get("default", ""), f"{where}.default", errors, [])
    if step["default"] == [] and "default" not in stored:
        del step["default"]  # none, as it was written


def _parse_on_error(data, step, where, errors):
    """`on_error` from the panel's route rows, or from its JSON text (the default)."""
    if data.get("on_error_view") == "form":
        if routes := error_routes.parse_rows(data):
            step["on_error"] = routes
        return
    if on_error := clean(data.get("on_error", "")).strip():
        step["on_error"] = parse_json_field(on_error, f"{where}.on_error", errors)


def _default_after(step, previous_key):
    if step.get("after") == ([previous_key] if previous_key else []):
        del step["after"]  # the default: stored only for parallel branches
    return step


def _parse_decisions(data, step, kind, where, errors):
    """`when` as typed (the validator parses it), `after_any` when ticked."""
    if when := clean(data.get("when", "")).strip():
        step["when"] = when
    if data.get("after_any") == "on":
        step["after_any"] = True


def _parse_retry(data, prefix, stored):
    """The policy of a retry fieldset (`retry_…` or `compensate_retry_…`), None for the default."""
    if data.get(f"{prefix}mode") != "custom":
        return None
    retry = {}
    for field in RETRY_FIELDS:
        value = parse_number(_text(data, f"{prefix}{field}"))
        if value is not None:
            retry[field] = value
    jitter = data.get(f"{prefix}jitter") == "on"
    if not (jitter and isinstance(stored, dict) and "jitter" not in stored):
        retry["jitter"] = jitter
    return retry


def _text(data, name):
    return clean(data.get(name, "")).strip()


def json_text(value):
    """How a JSON field shows in a textarea: the text as typed, or pretty JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value if value is not None else {}, indent=2, ensure_ascii=False)


def error_slots(fields, index):
    """The validator's errors about step `index`, keyed by the panel field they belong to.

    `steps[1].input.url` -> slot `input`, message `url: is required`;
    `steps[1].retry.max_attempts` -> slot `retry_max_attempts`.
    """
    prefix = f"steps[{index}]"
    slots = {}
    for path, messages in fields.items():
        if path != prefix and not path.startswith((prefix + ".", prefix + "[")):
            continue
        rest = path[len(prefix) :].lstrip(".")
        slot, detail = _slot_of(rest)
        for message in messages:
            slots.setdefault(slot, []).append(f"{detail}: {message}" if detail else message)
    return slots


def _slot_of(rest):
    if not rest:
        return "step", ""
    base = rest.split(".", 1)[0].split("[", 1)[0]
    if base in WAIT_SLOTS:
        return base, ""
    if base in DECISION_SLOTS:
        return base, rest if rest != base else ""  # "cases[0].when: …" under the cases
    head, _, tail = rest.partition(".")
    if head == "retry":
        return ("retry", "") if not tail else (f"retry_{tail}", "")
    if head == "compensate":
        sub, _, detail = tail.partition(".")
        if sub in ("action", "input", "timeout_s"):
            return f"compensate_{sub}", detail
        if sub == "retry":
            return ("compensate_retry", "") if not detail else (f"compensate_retry_{detail}", "")
        return "compensate", tail
    if head in ("key", "name", "action", "input", "after", "timeout_s", "workflow", "version") or (
        head in FOR_EACH_SLOTS
    ):
        return head, tail
    return "step", rest


def error_count(fields, index):
    prefix = f"steps[{index}]"
    return sum(
        len(messages)
        for path, messages in fields.items()
        if path == prefix or path.startswith((prefix + ".", prefix + "["))
    )
