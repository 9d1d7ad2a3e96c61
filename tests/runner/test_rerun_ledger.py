"""The rerun dialog's side-effect ledger: from what actions declare (`pure`) and from what
the chosen rerun (start, version, input) would really reuse or run again."""

import pytest

from builder.definition import validate
from builder.models import Workflow
from runner import launch, reruns
from runner.ledger import ledger
from tests.drive import drive

pytestmark = pytest.mark.django_db

STEPS = [
    # pure: no side effect, whatever its name
    {"key": "fetch", "action": "debug.echo", "input": {"user": "{{ input.user }}"}},
    # not declared pure: its success touched the world, though its name starts with debug.
    {"key": "charge", "action": "debug.fail", "input": {"fail_times": 0}},
    {
        "key": "deliver",
        "action": "debug.fail",
        "input": {"fail_times": -1},
        "retry": {"max_attempts": 1},
    },
    {"key": "notify", "action": "debug.echo", "input": {"done": "{{ input.user }}"}},
]


def failed_run(workspace, steps=STEPS, alice=None):
    definition = validate({"name": "Order", "steps": steps}, workspace)
    workflow = Workflow.objects.create(
        workspace=workspace, slug="order", name="Order", draft=definition
    )
    version = workflow.publish(definition, "first", alice)
    run = launch.start_run(
        workspace=workspace,
        definition=definition,
        input={"user": "ada"},
        workflow=workflow,
        workflow_version=version,
    )
    run = drive(run)
    assert run.status == "failed"
    return run


def rows(run, **choices):
    return {row.key: row for row in ledger(run, reruns.plan(run, **choices))}


def test_from_the_failed_step_pinned(workspace, alice):
    run = failed_run(workspace, alice=alice)
    found = rows(run, start_from="failed")
    assert (found["fetch"].effects_ran, found["fetch"].fate) == (False, "reused")
    assert (found["charge"].effects_ran, found["charge"].fate) == (True, "reused")
    assert not found["charge"].effects_again
    assert found["deliver"].status == "failed" and found["deliver"].effects_ran
    assert (found["deliver"].fate, found["deliver"].effects_again) == ("runs again", True)
    assert (found["notify"].status, found["notify"].fate) == ("skipped", "runs again")
    assert not found["notify"].effects_again  # pure


def test_from_the_start_everything_runs_again(workspace, alice):
    run = failed_run(workspace, alice=alice)
    found = rows(run, start_from="start")
    assert {key: row.fate for key, row in found.items()} == dict.fromkeys(
        ("fetch", "charge", "deliver", "notify"), "runs again"
    )
    assert [key for key, row in found.items() if row.effects_again] == ["charge", "deliver"]


def test_an_edited_input_reruns_what_depends_on_it(workspace, alice):
    run = failed_run(workspace, alice=alice)
    found = rows(run, start_from="failed", input={"user": "bo"})
    assert found["fetch"].fate == "runs again"
    # `charge` runs after `fetch`: what follows a step that runs again runs again too
    assert (found["charge"].fate, found["charge"].effects_again) == ("runs again", True)
    assert rows(run, start_from="failed", input={"user": "ada"})["fetch"].fate == "reused"


def test_an_edited_step_input_and_a_skip(workspace, alice):
    run = failed_run(workspace, alice=alice)
    found = rows(run, start_from="failed", skip=["deliver"], user=alice)
    assert (found["deliver"].fate, found["deliver"].effects_again) == ("skipped", False)
    found = rows(run, start_from="failed", step_inputs={"charge": {"fail_times": 1}})
    assert (found["charge"].fate, found["charge"].effects_again) == ("runs again", True)


def test_the_latest_version_decides_what_runs_again(workspace, alice):
    run = failed_run(workspace, alice=alice)
    # v2: `charge` is now a pure action, `notify` is gone, `audit` is new
    steps = [dict(spec) for spec in STEPS if spec["key"] != "notify"]
    steps[1] = {**steps[1], "action": "debug.echo", "input": {"n": 1}}
    steps.append({"key": "audit", "action": "debug.sleep", "input": {"ms": 1}})
    definition = validate({"name": "Order", "steps": steps}, workspace)
    run.workflow.publish(definition, "second", alice)
    found = rows(run, start_from="failed", version="latest")
    assert found["fetch"].fate == "reused"
    assert (found["charge"].effects_ran, found["charge"].fate) == (True, "runs again")
    assert not found["charge"].effects_again  # debug.echo is declared pure
    assert found["notify"].fate == "not in this version"
    assert (found["audit"].fate, found["audit"].effects_again) == ("runs (new)", True)
    # pinned, the same run's ledger is the old one
    assert rows(run, start_from="failed")["charge"].fate == "reused"
