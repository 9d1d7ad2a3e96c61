"""The demo `make run` loads: "Order approval" takes each of its paths on a real worker
(a big order approved, a small one that needs nobody, one rejected), and seeding again
publishes nothing new."""

import time

import pytest
from django.core.management import call_command

from builder.models import Workflow
from core.models import Workspace
from runner import launch
from runner.models import Run
from tests.runs import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo():
    call_command("seed_demo")
    return Workspace.objects.get(slug="demo")


def order(workspace, total):
    version = Workflow.objects.get(workspace=workspace, slug="order-approval").latest_version()
    return launch.start_run(
        workspace=workspace,
        definition=version.definition,
        input={
            "order_id": f"A-{total}",
            "total": total,
            "lines": version.definition["input_schema"]["properties"]["lines"]["default"],
        },
        workflow=version.workflow,
        workflow_version=version,
    )


def step(run, key):
    return run.steps.get(key=key, kind="action", parent=None)


def waiting_for_review(run, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if step(run, "review").status == "waiting":
            return
        time.sleep(0.1)
    raise AssertionError(f"run {run.id}: review is {step(run, 'review').status}")


def test_a_big_order_waits_for_approval_then_ships_as_a_child_run(worker, demo):
    run = order(demo, 182)
    waiting_for_review(run)
    assert step(run, "reserve").output and len(step(run, "reserve").output) == 3
    launch.decide_approval(run.id, "review", approved=True, by="demo", comment="fine")
    assert wait_for(run, timeout=60).status == "succeeded"
    child = Run.objects.get(parent_run=run)
    assert child.status == "succeeded" and child.workflow.slug == "ship-order"
    assert step(run, "ship").status == "succeeded"
    assert step(run, "decline").status == "skipped"
    assert step(run, "escalate").status == "skipped"


def test_a_small_order_needs_nobody_and_a_rejected_one_is_declined(worker, demo):
    small = order(demo, 20)
    assert wait_for(small, timeout=60).status == "succeeded"
    assert step(small, "review").status == "skipped"
    assert step(small, "ship").status == "succeeded"

    rejected = order(demo, 500)
    waiting_for_review(rejected)
    launch.decide_approval(rejected.id, "review", approved=False, by="demo", comment="no stock")
    assert wait_for(rejected, timeout=60).status == "succeeded"
    assert step(rejected, "ship").status == "skipped"
    assert step(rejected, "decline").output == {"declined": "A-500: no stock"}
    assert not Run.objects.filter(parent_run=rejected).exists()


def test_seeding_again_publishes_nothing_new(demo):
    versions = {w.slug: w.latest_version().number for w in Workflow.objects.filter(workspace=demo)}
    assert set(versions) == {"welcome", "ship-order", "order-approval"}
    call_command("seed_demo")
    again = {w.slug: w.latest_version().number for w in Workflow.objects.filter(workspace=demo)}
    assert again == versions
