"""When a step fails for good, succeeded steps are compensated newest first."""

import pytest

from tests.runs import attempts_of, duplicated_transitions, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _undo(label):
    return {
        "action": "debug.echo",
        "input": {"undo": label, "id": "{{ steps." + label + ".output.id }}"},
    }


def test_third_step_failing_compensates_two_then_one(worker, workspace):
    run = start(
        workspace,
        [
            {"key": "one", "action": "debug.echo", "input": {"id": 1}, "compensate": _undo("one")},
            {"key": "two", "action": "debug.echo", "input": {"id": 2}, "compensate": _undo("two")},
            {
                "key": "three",
                "action": "debug.fail",
                "input": {"fail_times": -1},
                "retry": {"max_attempts": 2, "initial_interval_s": 0.05},
            },
        ],
    )
    run = wait_for(run)
    assert run.status == "compensated"
    assert run.error["step"] == "three"
    compensations = list(run.steps.filter(kind="compensation").order_by("started_at", "id"))
    assert [c.key for c in compensations] == ["two", "one"]
    assert [c.input for c in compensations] == [{"undo": "two", "id": 2}, {"undo": "one", "id": 1}]
    assert all(c.status == "succeeded" for c in compensations)
    assert compensations[0].ended_at <= compensations[1].started_at
    assert len(attempts_of(run, "three")) == 2
    assert run.needs_review is False
    assert duplicated_transitions(run) == []


def test_failing_compensation_ends_failed_and_flags_the_run(worker, workspace):
    run = start(
        workspace,
        [
            {"key": "one", "action": "debug.echo", "input": {"id": 1}, "compensate": _undo("one")},
            {
                "key": "two",
                "action": "debug.echo",
                "input": {"id": 2},
                "compensate": {
                    "action": "debug.fail",
                    "input": {"fail_times": -1},
                    "retry": {"max_attempts": 2, "initial_interval_s": 0.05},
                },
            },
            {"key": "three", "action": "debug.fail", "input": {"retryable": False}},
        ],
    )
    run = wait_for(run)
    assert run.status == "failed"
    assert run.needs_review is True
    failed = run.steps.get(kind="compensation", key="two")
    assert failed.status == "failed"
    assert len(attempts_of(run, "two", kind="compensation")) == 2
    # the remaining compensation still ran
    assert run.steps.get(kind="compensation", key="one").status == "succeeded"
    three = attempts_of(run, "three")
    assert len(three) == 1
    assert three[0].retry_decision == {"retry": False, "reason": "non-retryable error"}
    assert duplicated_transitions(run) == []


def test_failure_with_nothing_to_undo_ends_failed(worker, workspace):
    run = start(
        workspace,
        [
            {"key": "one", "action": "debug.echo", "input": {}},
            {"key": "two", "action": "debug.fail", "input": {"retryable": False}},
            {"key": "three", "action": "debug.echo", "input": {}},
        ],
    )
    run = wait_for(run)
    assert run.status == "failed"
    assert run.needs_review is False
    assert run.steps.get(key="three").status == "skipped"
