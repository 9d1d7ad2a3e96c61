"""The validator on decisions: type, when, after_any, switch cases, on_error routes."""

import pytest

from builder.definition import validate
from core.errors import InvalidDefinition

pytestmark = pytest.mark.django_db

IF_ELSE = [
    {"key": "check", "action": "debug.echo", "input": {"total": "{{ input.total }}"}},
    {"key": "big", "action": "debug.echo", "when": "steps.check.output.total > 100"},
    {
        "key": "small",
        "action": "debug.echo",
        "after": ["check"],
        "when": "not (steps.check.output.total > 100)",
    },
    {"key": "done", "action": "debug.echo", "after": ["big", "small"], "after_any": True},
]

SWITCH = [
    {"key": "check", "action": "debug.echo", "input": {"total": "{{ input.total }}"}},
    {
        "key": "route",
        "type": "switch",
        "cases": [
            {"name": "big", "when": "steps.check.output.total > 1000", "next": ["review"]},
            {"name": "abroad", "when": 'input.country != "FR"', "next": ["customs"]},
        ],
        "default": ["ship"],
    },
    {"key": "review", "action": "debug.echo", "after": ["route"]},
    {"key": "customs", "action": "debug.echo", "after": ["route"]},
    {"key": "ship", "action": "debug.echo", "after": ["route"]},
]

ROUTED = [
    {
        "key": "pay",
        "action": "debug.fail",
        "on_error": [
            {"match": ["timeout", "card_declined"], "next": ["retry_later"]},
            {"match": ["*"], "next": ["tell_someone"]},
        ],
    },
    {"key": "ship", "action": "debug.echo"},
    {
        "key": "retry_later",
        "action": "debug.echo",
        "after": ["pay"],
        "input": {"why": "{{ steps.pay.error.message }}"},
    },
    {
        "key": "tell_someone",
        "action": "debug.echo",
        "after": ["pay"],
        "when": 'steps.pay.error.type != "x" and steps.pay.status == "failed"',
    },
]


def _errors(workspace, steps):
    with pytest.raises(InvalidDefinition) as refused:
        validate({"steps": steps}, workspace)
    return refused.value.fields


def test_if_else_is_normalized_with_its_decisions(workspace):
    steps = validate({"steps": IF_ELSE}, workspace)["steps"]
    assert steps[1]["when"] == "steps.check.output.total > 100"
    assert steps[1]["after"] == ["check"]
    assert steps[3]["after_any"] is True
    assert "type" not in steps[0] and "after_any" not in steps[1]


def test_a_switch_is_normalized_without_an_action(workspace):
    route = validate({"steps": SWITCH}, workspace)["steps"][1]
    assert route == {
        "key": "route",
        "type": "switch",
        "after": ["check"],
        "cases": SWITCH[1]["cases"],
        "default": ["ship"],
    }


def test_error_routes_are_normalized(workspace):
    pay = validate({"steps": ROUTED}, workspace)["steps"][0]
    assert pay["on_error"] == ROUTED[0]["on_error"]


def test_after_any_false_is_the_default_and_not_stored(workspace):
    steps = [{"key": "a", "action": "debug.echo", "after_any": False}]
    assert "after_any" not in validate({"steps": steps}, workspace)["steps"][0]


@pytest.mark.parametrize(
    ("step", "path", "message"),
    [
        ({"when": "input.x = 1"}, "steps[1].when", "use == to compare (at column 9)"),
        ({"when": ""}, "steps[1].when", "must be a condition"),
        ({"when": 12}, "steps[1].when", "must be a condition"),
        ({"when": "os.system == 1"}, "steps[1].when", "unknown reference root 'os'"),
        ({"when": "steps.zz.output == 1"}, "steps[1].when", "unknown step 'zz' (at column 1)"),
        ({"when": "steps.b.output == 1"}, "steps[1].when", "unknown step 'b'"),
        ({"when": "steps.first.result == 1"}, "steps[1].when", "use steps.first.output, .status"),
        ({"when": "steps.first.status.x == 1"}, "steps[1].when", "use steps.first.output"),
        ({"when": "steps.first == 1"}, "steps[1].when", "use steps.first.output"),
        ({"when": "run.secret == 1"}, "steps[1].when", "only run.id, run.scheduled_for"),
        ({"after_any": "yes"}, "steps[1].after_any", "must be true or false"),
        ({"type": "loop"}, "steps[1].type", "unknown type 'loop'; allowed: action, switch"),
        ({"cases": []}, "steps[1].cases", "unknown field"),
        ({"on_error": {}}, "steps[1].on_error", "must be a list of at most 20 routes"),
        ({"on_error": [{"match": [], "next": ["x"]}]}, "steps[1].on_error[0].match", "1-20"),
        ({"on_error": [{"match": ["*"]}]}, "steps[1].on_error[0].next", "is required"),
        ({"on_error": [{"match": ["*"], "next": []}]}, "steps[1].on_error[0].next", "at least"),
        ({"on_error": [{"match": ["*"], "next": "x"}]}, "steps[1].on_error[0].next", "keys"),
        ({"on_error": [{"match": ["*"], "next": ["x"], "go": 1}]}, "steps[1].on_error[0].go", ""),
        ({"on_error": [1]}, "steps[1].on_error[0]", "must be an object"),
        ({"on_error": [{"match": ["*"], "next": ["nope"]}]}, "steps[1].on_error[0].next", "'nope'"),
        (
            {"on_error": [{"match": ["*"], "next": ["first"]}]},
            "steps[1].on_error[0].next",
            "step 'first' must list 'second' in its after",
        ),
    ],
)
def test_readable_errors_at_the_field(workspace, step, path, message):
    fields = _errors(
        workspace,
        [
            {"key": "first", "action": "debug.echo"},
            {"key": "second", "action": "debug.echo", **step},
        ],
    )
    assert path in fields, fields
    assert any(message in m for m in fields[path]), fields[path]


def test_a_when_on_a_later_step_is_not_upstream(workspace):
    fields = _errors(
        workspace,
        [
            {"key": "a", "action": "debug.echo", "when": "steps.b.output.x == 1"},
            {"key": "b", "action": "debug.echo", "after": []},
        ],
    )
    assert "step 'b' does not run before this one" in fields["steps[0].when"][0]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"cases": None}, "steps[1].cases", "non-empty list"),
        ({"cases": [1]}, "steps[1].cases[0]", "must be an object"),
        ({"cases": [{"name": "a", "next": []}]}, "steps[1].cases[0].when", "is required"),
        ({"cases": [{"name": "a", "when": "(", "next": []}]}, "steps[1].cases[0].when", "column"),
        ({"cases": [{"name": "default", "when": "true"}]}, "steps[1].cases[0].name", "default"),
        ({"cases": [{"name": "", "when": "true"}]}, "steps[1].cases[0].name", "1-100"),
        (
            {"cases": [{"name": "a", "when": "true"}, {"name": "a", "when": "true"}]},
            "steps[1].cases[1].name",
            "duplicate case name 'a'",
        ),
        ({"cases": [{"name": "a", "when": "true", "if": 1}]}, "steps[1].cases[0].if", "unknown"),
        ({"default": "ship"}, "steps[1].default", "must be a list of step keys"),
        ({"default": ["nope"]}, "steps[1].default", "unknown step 'nope'"),
        ({"default": ["check"]}, "steps[1].default", "step 'check' must list 'route'"),
        (
            {"cases": [{"name": "a", "when": "steps.ship.output", "next": []}]},
            "steps[1].cases[0].when",
            "step 'ship' does not run before this one",
        ),
        ({"action": "debug.echo"}, "steps[1].action", "unknown field"),
        ({"on_error": []}, "steps[1].on_error", "unknown field"),
    ],
)
def test_switch_errors_at_the_field(workspace, change, path, message):
    steps = [dict(s) for s in SWITCH]
    steps[1] = {**steps[1], **change}
    fields = _errors(workspace, steps)
    assert path in fields, fields
    assert any(message in m for m in fields[path]), fields[path]


def test_switch_targets_must_follow_the_switch(workspace):
    steps = [dict(s) for s in SWITCH]
    steps[2] = {"key": "review", "action": "debug.echo", "after": ["check"]}
    fields = _errors(workspace, steps)
    assert fields["steps[1].cases[0].next"] == ["step 'review' must list 'route' in its after"]


def test_handlers_read_the_error_in_their_input(workspace):
    steps = validate({"steps": ROUTED}, workspace)["steps"]
    assert steps[2]["input"] == {"why": "{{ steps.pay.error.message }}"}
