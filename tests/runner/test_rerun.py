"""Reruns: from the failed step (reusing earlier outputs) or from the start."""

import pytest

from core.errors import InvalidTransition
from runner import launch, reruns
from tests.runs import attempts_of, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = [
    {"key": "fetch", "action": "debug.echo", "input": {"user": "{{ input.user }}"}},
    {"key": "enrich", "action": "debug.echo", "input": {"from": "{{ steps.fetch.output }}"}},
    {
        "key": "deliver",
        "action": "debug.fail",
        "input": {"fail_times": "{{ input.fail_times }}"},
        "retry": {"max_attempts": 1},
    },
]


def test_rerun_from_failed_step_reuses_earlier_outputs(worker, workspace):
    original = wait_for(start(workspace, STEPS, input={"user": "ada", "fail_times": -1}))
    assert original.status == "failed"

    rerun = reruns.rerun(original, start_from="failed", input={"user": "ada", "fail_times": 0})
    rerun = wait_for(rerun)

    assert rerun.status == "succeeded"
    assert rerun.rerun_of_id == original.id
    assert rerun.rerun_from == "failed"
    for key in ("fetch", "enrich"):
        step = rerun.steps.get(key=key)
        assert step.reused_from == original.steps.get(key=key)
        assert attempts_of(rerun, key) == []
    assert rerun.steps.get(key="enrich").output == {"from": {"user": "ada"}}
    assert len(attempts_of(rerun, "deliver")) == 1


def test_rerun_from_start_runs_everything_again(worker, workspace):
    original = wait_for(start(workspace, STEPS, input={"user": "ada", "fail_times": -1}))
    rerun = wait_for(
        reruns.rerun(original, start_from="start", input={"user": "bo", "fail_times": 0})
    )
    assert rerun.status == "succeeded"
    assert [len(attempts_of(rerun, k)) for k in ("fetch", "enrich", "deliver")] == [1, 1, 1]
    assert rerun.steps.get(key="fetch").output == {"user": "bo"}


def test_cancel_stops_new_work_and_compensates(worker, workspace):
    run = start(
        workspace,
        [
            {
                "key": "book",
                "action": "debug.echo",
                "input": {"id": 9},
                "compensate": {
                    "action": "debug.echo",
                    "input": {"undo": "{{ steps.book.output.id }}"},
                },
            },
            {"key": "wait", "action": "debug.sleep", "input": {"ms": 800}},
            {"key": "never", "action": "debug.echo", "input": {}},
        ],
    )
    import time

    deadline = time.time() + 10
    while not run.attempts.filter(step_run__key="wait", status="running").exists():
        assert time.time() < deadline
        time.sleep(0.05)
    launch.cancel_run(run.id)
    run = wait_for(run)
    assert run.status == "cancelled"
    assert run.steps.get(key="never").status == "skipped"
    assert run.steps.get(kind="compensation", key="book").output == {"undo": 9}
    with pytest.raises(InvalidTransition):
        launch.cancel_run(run.id)


def test_rerun_from_failed_step_reruns_steps_whose_input_was_edited(worker, workspace):
    original = wait_for(start(workspace, STEPS, input={"user": "ada", "fail_times": -1}))
    rerun = reruns.rerun(original, start_from="failed", input={"user": "bo", "fail_times": 0})
    rerun = wait_for(rerun)
    assert rerun.status == "succeeded"
    assert [len(attempts_of(rerun, k)) for k in ("fetch", "enrich", "deliver")] == [1, 1, 1]
    assert rerun.steps.get(key="enrich").output == {"from": {"user": "bo"}}


def test_cancel_racing_the_worker_never_deadlocks(worker, workspace):
    # Given runs whose parallel steps the worker is claiming at this very moment
    steps = [
        {"key": f"s{i}", "action": "debug.sleep", "input": {"ms": 30}, "after": []}
        for i in range(6)
    ]
    runs = [start(workspace, steps) for _ in range(15)]
    # When each is cancelled at once
    for run in runs:
        try:
            launch.cancel_run(run.id)
        except InvalidTransition:
            pass  # it finished first
    # Then every cancel went through (no deadlock error) and every run ended
    for run in runs:
        assert wait_for(run).status in ("cancelled", "succeeded")
