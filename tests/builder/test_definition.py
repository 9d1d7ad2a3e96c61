"""The definition validator: one message per field, references checked against the DAG."""

import pytest

from builder.definition import validate
from core.errors import InvalidDefinition

pytestmark = pytest.mark.django_db


def _errors(workspace, steps, **extra):
    with pytest.raises(InvalidDefinition) as refused:
        validate({"steps": steps, **extra}, workspace)
    return refused.value.fields


def test_a_valid_definition_is_normalized(workspace):
    result = validate(
        {
            "name": "Signup",
            "steps": [
                {"key": "a", "action": "debug.echo", "input": {"email": "{{ input.email }}"}},
                {"key": "b", "action": "debug.echo@1", "input": {"a": "{{ steps.a.output }}"}},
                {"key": "c", "action": "debug.echo", "after": []},
            ],
        },
        workspace,
    )
    assert [(s["key"], s["action"], s["after"]) for s in result["steps"]] == [
        ("a", "debug.echo@1", []),
        ("b", "debug.echo@1", ["a"]),
        ("c", "debug.echo@1", []),
    ]


def test_cycles_are_refused(workspace):
    fields = _errors(
        workspace,
        [
            {"key": "a", "action": "debug.echo", "after": ["b"]},
            {"key": "b", "action": "debug.echo", "after": ["a"]},
        ],
    )
    assert any("cycle" in m for ms in fields.values() for m in ms)


def test_references_must_point_upstream(workspace):
    fields = _errors(
        workspace,
        [
            {"key": "a", "action": "debug.echo", "input": {"x": "{{ steps.b.output }}"}},
            {"key": "b", "action": "debug.echo", "input": {"y": "{{ steps.zz.output }}"}},
            {"key": "c", "action": "debug.echo", "input": {"z": "{{ steps.a.result }}"}},
            {"key": "d", "action": "debug.echo", "input": {"w": "{{ os.environ }}"}},
            {"key": "e", "action": "debug.echo", "input": {"v": "{{ run.secret }}"}},
        ],
    )
    assert "does not run before this one" in fields["steps[0].input.x"][0]
    assert fields["steps[1].input.y"] == ["unknown step 'zz'"]
    assert "use steps.a.output" in fields["steps[2].input.z"][0]
    assert "unknown reference root 'os'" in fields["steps[3].input.w"][0]
    assert fields["steps[4].input.v"] == [
        "only run.id, run.scheduled_for can be referenced from run"
    ]


def test_required_fields_and_unknown_fields(workspace):
    fields = _errors(
        workspace,
        [
            {"key": "mail", "action": "email.send", "input": {"subject": "x", "cc": "y"}},
            {"key": "x", "action": "debug.echo", "colour": "red", "timeout_s": -1},
        ],
        extra_top=1,
    )
    assert fields["steps[0].input.to"] == ["is required"]
    assert fields["steps[0].input.body"] == ["is required"]
    assert fields["steps[0].input.cc"] == ["is not accepted by this action"]
    assert fields["steps[1].colour"] == ["unknown field"]
    assert fields["steps[1].timeout_s"] == ["must be between 0 and 86400"]
    assert "extra_top" in fields


def test_references_satisfy_required_fields(workspace):
    validate(
        {
            "steps": [
                {
                    "key": "mail",
                    "action": "email.send",
                    "input": {"to": "{{ input.email }}", "subject": "Hi", "body": "{{ input.b }}"},
                }
            ]
        },
        workspace,
    )


def test_compensation_may_read_its_own_step(workspace):
    validate(
        {
            "steps": [
                {
                    "key": "book",
                    "action": "debug.echo",
                    "compensate": {
                        "action": "debug.echo",
                        "input": {"cancel": "{{ steps.book.output.id }}"},
                    },
                }
            ]
        },
        workspace,
    )


def test_not_a_definition(workspace):
    with pytest.raises(InvalidDefinition) as refused:
        validate([1, 2], workspace)
    assert refused.value.fields == {"": ["must be a JSON object"]}
    assert "steps" in _errors(workspace, [])


def test_custom_actions_of_other_workspaces_are_unknown(workspace, other_workspace):
    from core.models import Action, ActionVersion

    theirs = Action.objects.create(workspace=other_workspace, name="crm.update")
    ActionVersion.objects.create(action=theirs, version=1, kind="http", config={})
    fields = _errors(workspace, [{"key": "a", "action": "crm.update"}])
    assert fields["steps[0].action"] == ["unknown action 'crm.update'"]


def test_names_and_descriptions_are_bounded_strings(workspace):
    fields = _errors(
        workspace,
        [{"key": "a", "action": "debug.echo", "name": 5}],
        name="x" * 201,
        description=["no"],
    )
    assert fields["name"] == ["at most 200 characters"]
    assert fields["description"] == ["must be a string"]
    assert fields["steps[0].name"] == ["must be a string of at most 200 characters"]
