"""The validator on wait steps: sleep, event and approval, each error pointed at its
field; a valid one survives an export and import unchanged."""

import pytest

from builder.definition import validate
from core.errors import InvalidDefinition

pytestmark = pytest.mark.django_db

WAITS = [
    {"key": "pause", "type": "sleep", "for_s": 5},
    {"key": "later", "type": "sleep", "until": "{{ input.at }}"},
    {"key": "pay", "type": "event", "event": "payment_received", "timeout_s": 3600,
     "on_timeout": "continue"},
    {"key": "review", "type": "approval", "role": "owner", "timeout_s": 60,
     "on_timeout": "reject", "on_error": [{"match": ["wait_timeout"], "next": ["fallback"]}]},
    {"key": "fallback", "action": "debug.echo", "after": ["review"]},
    {"key": "ship", "action": "debug.echo", "when": "steps.review.output.approved == true",
     "after": ["review"]},
]  # fmt: skip


def _errors(steps):
    with pytest.raises(InvalidDefinition) as caught:
        validate({"name": "w", "steps": steps}, None)
    return caught.value.fields


def test_valid_waits_normalize_and_round_trip():
    clean = validate({"name": "w", "steps": WAITS}, None)
    by_key = {s["key"]: s for s in clean["steps"]}
    assert by_key["pause"] == {"key": "pause", "type": "sleep", "after": [], "for_s": 5}
    assert by_key["pay"]["on_timeout"] == "continue"
    assert by_key["review"]["role"] == "owner"
    assert (
        "on_timeout"
        not in validate(
            {"name": "w", "steps": [{"key": "a", "type": "event", "event": "x"}]}, None
        )["steps"][0]
    )
    assert validate(clean, None) == clean  # export, then import: the same definition


@pytest.mark.parametrize(
    ("step", "field", "words"),
    [
        ({"type": "sleep"}, "steps[0]", "either for_s"),
        ({"type": "sleep", "for_s": 5, "until": "2026-01-01T00:00:00Z"}, "steps[0]", "either"),
        ({"type": "sleep", "for_s": -1}, "steps[0].for_s", "between"),
        ({"type": "sleep", "for_s": "5"}, "steps[0].for_s", "number of seconds"),
        ({"type": "sleep", "until": "tomorrow"}, "steps[0].until", "ISO 8601"),
        ({"type": "sleep", "until": "{{ steps.nope.output.at }}"}, "steps[0].until", "unknown"),
        ({"type": "event"}, "steps[0].event", "is required"),
        ({"type": "event", "event": "bad name"}, "steps[0].event", "letters"),
        ({"type": "event", "event": "e", "timeout_s": 0}, "steps[0].timeout_s", "between"),
        ({"type": "event", "event": "e", "on_timeout": "reject", "timeout_s": 1},
         "steps[0].on_timeout", "fail, continue"),
        ({"type": "event", "event": "e", "on_timeout": "continue"}, "steps[0].on_timeout",
         "without timeout_s"),
        ({"type": "approval", "role": "admin"}, "steps[0].role", "editor, owner"),
        ({"type": "approval", "role": "viewer"}, "steps[0].role", "editor, owner"),
        ({"type": "approval", "on_timeout": "continue", "timeout_s": 5}, "steps[0].on_timeout",
         "fail, reject, approve"),
        ({"type": "approval", "action": "debug.echo"}, "steps[0].action", "unknown field"),
        ({"type": "nap"}, "steps[0].type", "sleep, event, approval"),
    ],
)  # fmt: skip
def test_bad_waits_are_pointed_at_their_field(step, field, words):
    fields = _errors([{"key": "w", **step}])
    assert field in fields, fields
    assert any(words in message for message in fields[field]), fields[field]
