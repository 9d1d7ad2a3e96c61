"""Sub-workflow steps in the validator: the workflow must be this workspace's, published,
and never lead back to the workflow being validated; every message points at its field."""

import pytest

from builder.definition import validate
from builder.models import Workflow
from core.errors import InvalidDefinition

pytestmark = pytest.mark.django_db

ECHO = [{"key": "echo", "action": "debug.echo"}]


def publish(workspace, slug, steps):
    workflow = Workflow.objects.create(workspace=workspace, slug=slug, name=slug.title())
    workflow.publish(validate({"steps": steps}, workspace, slug))
    return workflow


def errors_of(steps, workspace, slug=None):
    with pytest.raises(InvalidDefinition) as raised:
        validate({"steps": steps}, workspace, slug)
    return raised.value.fields


def sub(workflow, **extra):
    return {"key": "ship", "type": "workflow", "workflow": workflow, **extra}


def test_a_published_workflow_of_the_workspace_is_accepted_and_normalized(workspace):
    publish(workspace, "shipping", ECHO)
    clean = validate({"steps": [sub("shipping", input={"n": "{{ input.n }}"})]}, workspace)
    assert clean["steps"] == [
        {
            "key": "ship",
            "type": "workflow",
            "after": [],
            "workflow": "shipping",
            "version": "latest",
            "input": {"n": "{{ input.n }}"},
        }
    ]


def test_another_workspaces_workflow_can_never_be_referenced(workspace, other_workspace):
    publish(other_workspace, "shipping", ECHO)
    assert errors_of([sub("shipping")], workspace) == {
        "steps[0].workflow": ["no workflow 'shipping' in this workspace"]
    }


def test_unpublished_and_missing_versions_are_refused(workspace):
    Workflow.objects.create(workspace=workspace, slug="draft", name="Draft")
    assert errors_of([sub("draft")], workspace) == {
        "steps[0].workflow": ["workflow 'draft' is not published yet"]
    }
    publish(workspace, "shipping", ECHO)
    assert errors_of([sub("shipping", version=3)], workspace) == {
        "steps[0].version": ["workflow 'shipping' has no version 3"]
    }
    assert errors_of([sub("shipping", version="newest")], workspace) == {
        "steps[0].version": ['must be "latest" or a version number (1, 2, ...)']
    }


def test_a_workflow_cannot_run_itself(workspace):
    publish(workspace, "loop", ECHO)
    assert errors_of([sub("loop")], workspace, slug="loop") == {
        "steps[0].workflow": ["a workflow cannot run itself as a sub-workflow"]
    }


def test_a_cycle_through_another_workflow_is_refused_at_publish(workspace):
    publish(workspace, "a", ECHO)
    publish(workspace, "b", [sub("a")])  # b -> a
    fields = errors_of([{"key": "first", "action": "debug.echo"}, sub("b")], workspace, "a")
    assert fields == {"steps[1].workflow": ["sub-workflows would run in a cycle: a -> b -> a"]}


def test_secrets_and_bad_shapes_point_at_their_fields(workspace):
    publish(workspace, "shipping", ECHO)
    fields = errors_of(
        [sub("shipping", input={"token": "{{ secrets.TOKEN }}"}, action="debug.echo")], workspace
    )
    assert fields == {
        "steps[0].action": ["unknown field"],
        "steps[0].input.token": ["a child run cannot be handed a secret; refer to it in the child"],
    }
    assert errors_of([sub(None)], workspace) == {
        "steps[0].workflow": ["must name a published workflow of this workspace"]
    }
