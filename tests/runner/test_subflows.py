"""Sub-workflow steps: child runs started, awaited without a worker, undone and cancelled
with their parent; each path run by a real worker."""

import time

import pytest

from builder.definition import validate
from builder.models import Workflow
from runner import launch
from runner.models import Attempt, Run
from tests.runs import duplicated_transitions, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FAIL_ONCE_FOR_GOOD = {"max_attempts": 1}


def publish(workspace, slug, steps, **extra):
    workflow = Workflow.objects.create(workspace=workspace, slug=slug, name=slug.title())
    workflow.publish(validate({"name": slug.title(), "steps": steps, **extra}, workspace, slug))
    return workflow


def child_of(run, key="ship"):
    return Run.objects.get(parent_run=run, parent_step__key=key)


def wait_until(check, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


SHIPPING = [
    {"key": "label", "action": "debug.echo", "input": {"order": "{{ input.order }}"}},
    {"key": "send", "action": "debug.echo", "input": {"label": "{{ steps.label.output.order }}"}},
]


def test_child_success_gives_the_parent_step_its_output(worker, workspace):
    publish(workspace, "shipping", SHIPPING)
    run = wait_for(
        start(
            workspace,
            [
                {"key": "order", "action": "debug.echo", "input": {"id": 7}},
                {
                    "key": "ship",
                    "type": "workflow",
                    "workflow": "shipping",
                    "input": {"order": "{{ steps.order.output.id }}"},
                },
                {
                    "key": "done",
                    "action": "debug.echo",
                    "input": {"sent": "{{ steps.ship.output }}"},
                },
            ],
        )
    )
    assert run.status == "succeeded", run.error
    child = child_of(run)
    assert child.status == "succeeded"
    assert child.trigger == "parent"
    assert child.input == {"order": 7}
    assert child.output == {"label": 7}  # the child's run output: its last step's
    ship = run.steps.get(key="ship")
    assert ship.output == child.output
    assert ship.attempt_count == 0 and not Attempt.objects.filter(step_run=ship).exists()
    assert run.steps.get(key="done").output == {"sent": {"label": 7}}
    assert duplicated_transitions(run) == [] and duplicated_transitions(child) == []


def test_child_failure_fails_the_step_and_the_parent_compensates(worker, workspace):
    publish(
        workspace,
        "shipping",
        [{"key": "boom", "action": "debug.fail", "retry": FAIL_ONCE_FOR_GOOD}],
    )
    run = wait_for(
        start(
            workspace,
            [
                {
                    "key": "reserve",
                    "action": "debug.echo",
                    "compensate": {"action": "debug.echo", "input": {"undo": True}},
                },
                {"key": "ship", "type": "workflow", "workflow": "shipping"},
            ],
        )
    )
    assert run.status == "compensated"
    ship = run.steps.get(key="ship", kind="action")
    assert ship.status == "failed"
    assert ship.error["code"] == "child_failed"
    assert ship.error["details"]["run"] == child_of(run).id
    assert child_of(run).status == "failed"
    assert run.error["step"] == "ship"
    assert run.steps.get(key="reserve", kind="compensation").status == "succeeded"


def test_an_on_error_route_handles_a_failed_child(worker, workspace):
    publish(
        workspace,
        "shipping",
        [{"key": "boom", "action": "debug.fail", "retry": FAIL_ONCE_FOR_GOOD}],
    )
    run = wait_for(
        start(
            workspace,
            [
                {
                    "key": "ship",
                    "type": "workflow",
                    "workflow": "shipping",
                    "on_error": [{"match": ["child_failed"], "next": ["notify"]}],
                },
                {
                    "key": "notify",
                    "action": "debug.echo",
                    "input": {"why": "{{ steps.ship.error.code }}"},
                },
            ],
        )
    )
    assert run.status == "succeeded", run.error
    assert run.steps.get(key="ship").handled["match"] == "child_failed"
    assert run.steps.get(key="notify").output == {"why": "child_failed"}


def test_parent_compensation_compensates_the_child(worker, workspace):
    publish(
        workspace,
        "shipping",
        [
            {
                "key": "charge",
                "action": "debug.echo",
                "input": {"amount": 5},
                "compensate": {"action": "debug.echo", "input": {"refund": 5}},
            },
            {
                "key": "book",
                "action": "debug.echo",
                "compensate": {"action": "debug.echo", "input": {"cancel": True}},
            },
        ],
    )
    run = wait_for(
        start(
            workspace,
            [
                {"key": "ship", "type": "workflow", "workflow": "shipping"},
                {"key": "boom", "action": "debug.fail", "retry": FAIL_ONCE_FOR_GOOD},
            ],
        )
    )
    assert run.status == "compensated", run.error
    assert run.steps.get(key="ship", kind="compensation").status == "succeeded"
    child = wait_for(child_of(run))
    assert child.status == "compensated"
    undone = child.steps.filter(kind="compensation").order_by("started_at", "id")
    assert [(s.key, s.status) for s in undone] == [("book", "succeeded"), ("charge", "succeeded")]
    assert child.events.filter(type="run.compensating").exists()


def test_cancelling_the_parent_cancels_the_child(worker, workspace):
    publish(workspace, "slow", [{"key": "nap", "action": "debug.sleep", "input": {"ms": 20000}}])
    run = start(workspace, [{"key": "ship", "type": "workflow", "workflow": "slow"}])
    wait_until(lambda: Run.objects.filter(parent_run=run, status="running").exists())
    launch.cancel_run(run.id)
    run = wait_for(run)
    assert run.status == "cancelled"
    child = wait_for(child_of(run))
    assert child.status == "cancelled"
    assert "cancelled with its parent" in child.error["message"]


def test_a_cycle_that_slipped_past_publish_stops_at_the_depth_limit(worker, workspace):
    # Published without its own slug, the validator cannot see the self-reference; the
    # run's depth limit stops it instead.
    loop = publish(workspace, "loop", [{"key": "echo", "action": "debug.echo"}])
    loop.publish(
        validate({"steps": [{"key": "again", "type": "workflow", "workflow": "loop"}]}, workspace)
    )
    run = wait_for(start(workspace, [{"key": "go", "type": "workflow", "workflow": "loop"}]))
    assert run.status == "failed"
    assert run.steps.get(key="go").error["code"] == "child_failed"
    depth, current = 0, run
    while current.children.exists():
        current = current.children.get()
        depth += 1
    assert depth == 5
    assert current.steps.get(key="again").error["fields"]["workflow"] == [
        "sub-workflows nest at most 5 deep"
    ]
