"""For-each steps run by a real worker: outputs in order, fail-fast and collect, retries
per item, compensation of the items that succeeded, reruns of the failed items only, and
never more items at once than `max_concurrency`."""

import time

import pytest

from runner import launch
from runner.models import Attempt, StepRun
from runner.reruns import rerun
from tests.runs import duplicated_transitions, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
# Generous: the machine running the suite may be busy with other work.
WAIT_S = 120


def _items(run, key="each"):
    return list(StepRun.objects.filter(run=run, key=key, kind="item").order_by("item_index"))


def _fetch(items):
    return {"key": "fetch", "action": "debug.echo", "input": {"items": items}}


def test_outputs_come_back_in_item_order(worker, workspace):
    items = [{"n": n} for n in range(25)]
    steps = [
        _fetch(items),
        {
            "key": "each",
            "action": "debug.echo",
            "for_each": "{{ steps.fetch.output.items }}",
            "max_concurrency": 4,
            "input": {"n": "{{ item.n }}", "at": "{{ item_index }}", "text": "#{{ item.n }}"},
        },
    ]
    run = wait_for(start(workspace, steps), timeout=WAIT_S)
    assert run.status == "succeeded", run.error
    expected = [{"n": n, "at": n, "text": f"#{n}"} for n in range(25)]
    assert run.steps.get(kind="action", key="each").output == expected
    assert run.output == expected
    children = _items(run)
    assert [c.item for c in children] == items
    assert {c.status for c in children} == {"succeeded"}
    assert Attempt.objects.filter(step_run__in=children).count() == 25
    assert duplicated_transitions(run) == []


def test_an_empty_list_succeeds_with_no_items(worker, workspace):
    steps = [
        _fetch([]),
        {"key": "each", "action": "debug.echo", "for_each": "{{ steps.fetch.output.items }}"},
    ]
    run = wait_for(start(workspace, steps), timeout=WAIT_S)
    assert run.status == "succeeded"
    assert run.steps.get(kind="action", key="each").output == []
    assert _items(run) == []


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "{{ steps.fetch.output.nothing }}",
            "for_each refers to steps.fetch.output.nothing, which is missing",
        ),
        ("{{ steps.fetch.output.items.0 }}", "for_each must resolve to a list, not int"),
    ],
)
def test_a_bad_reference_fails_the_step_with_a_clear_error(worker, workspace, source, message):
    steps = [_fetch([1, 2]), {"key": "each", "action": "debug.echo", "for_each": source}]
    run = wait_for(start(workspace, steps), timeout=WAIT_S)
    assert run.status == "failed"
    step = run.steps.get(kind="action", key="each")
    assert step.status == "failed"
    assert step.error["message"] == message
    assert run.error["step"] == "each"


def test_a_list_longer_than_the_limit_fails_the_step(worker, workspace):
    steps = [
        {"key": "each", "action": "debug.echo", "for_each": "{{ input.items }}"},
    ]
    run = wait_for(start(workspace, steps, {"items": list(range(10_001))}), timeout=WAIT_S)
    assert run.status == "failed"
    assert "10001 items; at most 10000" in run.steps.get(kind="action", key="each").error["message"]
    assert _items(run) == []


FAILING = [
    {"fail": 0},
    {"fail": 1},  # fails once, then its retry succeeds
    {"fail": -1},
    {"fail": 0},
    {"fail": -1},
    {"fail": 0},
]


def _failing_step(mode, **extra):
    return {
        "key": "each",
        "action": "debug.fail",
        "for_each": "{{ input.items }}",
        "input": {"fail_times": "{{ item.fail }}"},
        "retry": {"max_attempts": 2, "initial_interval_s": 0.05},
        "on_item_failure": mode,
        **extra,
    }


def test_collect_runs_every_item_then_fails_naming_the_failed_ones(worker, workspace):
    run = wait_for(
        start(workspace, [_failing_step("collect", max_concurrency=2)], {"items": FAILING}),
        timeout=WAIT_S,
    )
    assert run.status == "failed"
    step = run.steps.get(kind="action", key="each")
    assert step.error["failed_items"] == [2, 4]
    assert step.error["message"] == "2 of 6 items failed: 2, 4"
    statuses = [c.status for c in _items(run)]
    assert statuses == ["succeeded", "succeeded", "failed", "succeeded", "failed", "succeeded"]
    # Each item is retried by the step's policy, attempt by attempt.
    assert [c.attempt_count for c in _items(run)] == [1, 2, 2, 1, 2, 1]
    assert duplicated_transitions(run) == []


def test_fail_fast_stops_the_other_items_and_compensates_the_succeeded_ones(worker, workspace):
    step = _failing_step(
        "fail_fast",
        max_concurrency=1,
        compensate={
            "action": "debug.echo",
            "input": {
                "undo": "{{ item_index }}",
                "output": "{{ item_output }}",
                "item": "{{ item }}",
            },
        },
    )
    run = wait_for(start(workspace, [step], {"items": FAILING}), timeout=WAIT_S)
    assert run.status == "compensated", run.error
    each = run.steps.get(kind="action", key="each")
    assert each.status == "failed"
    assert each.error["failed_items"] == [2]
    statuses = [c.status for c in _items(run)]
    assert statuses == ["succeeded", "succeeded", "failed", "skipped", "skipped", "skipped"]
    undone = StepRun.objects.filter(run=run, kind="compensation").order_by("id")
    # Every succeeded item, newest first, with that item's output.
    assert [(c.item_index, c.status) for c in undone] == [(1, "succeeded"), (0, "succeeded")]
    assert undone[0].output == {
        "undo": 1,
        "output": {"succeeded_on_attempt": 2},
        "item": {"fail": 1},
    }
    assert all(c.parent_id == each.id for c in undone)


def test_a_later_failure_compensates_every_item_of_a_succeeded_for_each(worker, workspace):
    steps = [
        {
            "key": "each",
            "action": "debug.echo",
            "for_each": "{{ input.items }}",
            "input": {"x": "{{ item }}"},
            "compensate": {"action": "debug.echo", "input": {"undo": "{{ item_output.x }}"}},
        },
        {"key": "boom", "action": "debug.fail", "input": {"retryable": False}},
    ]
    run = wait_for(start(workspace, steps, {"items": ["a", "b", "c"]}), timeout=WAIT_S)
    assert run.status == "compensated"
    undone = StepRun.objects.filter(run=run, kind="compensation")
    assert sorted(c.output["undo"] for c in undone) == ["a", "b", "c"]


def test_a_rerun_from_the_failed_step_runs_only_the_failed_items(worker, workspace):
    first = wait_for(
        start(workspace, [_failing_step("collect")], {"items": FAILING}), timeout=WAIT_S
    )
    assert first.status == "failed"
    second = wait_for(rerun(first, start_from="failed", input={"items": FAILING}), timeout=WAIT_S)
    children = _items(second)
    reused = [c.item_index for c in children if c.reused_from_id]
    assert reused == [0, 1, 3, 5]
    ran = Attempt.objects.filter(step_run__in=children).values_list(
        "step_run__item_index", flat=True
    )
    assert sorted(set(ran)) == [2, 4]
    # Fixed input: the failed items now succeed, the others' outputs are kept.
    fixed = [dict(item, fail=0) if item["fail"] == -1 else item for item in FAILING]
    third = wait_for(rerun(first, start_from="failed", input={"items": fixed}), timeout=WAIT_S)
    assert third.status == "succeeded", third.error
    assert [c.reused_from_id is not None for c in _items(third)] == [
        True, True, False, True, False, True,
    ]  # fmt: skip
    assert third.steps.get(kind="action", key="each").output[1] == {"succeeded_on_attempt": 2}


def _most_at_once(attempts):
    """The most attempts running at one instant (an end before a start at a tie)."""
    moments = []
    for started, ended in attempts:
        moments += [(started, 1), (ended, -1)]
    running = most = 0
    for _, change in sorted(moments):
        running += change
        most = max(most, running)
    return most


def test_a_thousand_items_never_run_more_than_max_concurrency_at_once(worker, workspace):
    steps = [
        {
            "key": "each",
            "action": "debug.echo",
            "for_each": "{{ input.items }}",
            "max_concurrency": 10,
            "input": {"i": "{{ item }}"},
            # A loaded machine can miss a worker's heartbeat, and the sweeper then gives up
            # on its attempts: retried, as a deployment would (concurrency still counts them).
            "retry": {"max_attempts": 3, "initial_interval_s": 0.05},
        }
    ]
    run = wait_for(start(workspace, steps, {"items": list(range(1000))}), timeout=4 * WAIT_S)
    assert run.status == "succeeded", run.error
    assert run.output == [{"i": i} for i in range(1000)]
    attempts = list(
        Attempt.objects.filter(run=run, step_run__kind="item").values_list("started_at", "ended_at")
    )
    assert len(attempts) >= 1000
    # (Pure echo items may also run one after the other, inline: never more, is the rule.)
    assert _most_at_once(attempts) <= 10


def test_cancelling_skips_the_pending_items_and_undoes_the_succeeded_ones(worker, workspace):
    steps = [
        {
            "key": "each",
            "action": "debug.sleep",
            "for_each": "{{ input.items }}",
            "max_concurrency": 2,
            "input": {"ms": "{{ item }}"},
            "compensate": {"action": "debug.echo", "input": {"undo": "{{ item_index }}"}},
        }
    ]
    run = start(workspace, steps, {"items": [10, 10, 3000, 3000, 10, 10, 10]})
    deadline = time.time() + WAIT_S
    while StepRun.objects.filter(run=run, kind="item", status="succeeded").count() < 2:
        assert time.time() < deadline
        time.sleep(0.05)
    launch.cancel_run(run.id)
    run = wait_for(run, timeout=WAIT_S)
    assert run.status == "cancelled"
    assert run.steps.get(kind="action", key="each").status == "skipped"
    statuses = [c.status for c in _items(run)]
    assert statuses[:4] == ["succeeded", "succeeded", "succeeded", "succeeded"]  # ran out
    assert statuses[4:] == ["skipped", "skipped", "skipped"]
    undone = StepRun.objects.filter(run=run, kind="compensation", status="succeeded")
    assert sorted(c.output["undo"] for c in undone) == [0, 1, 2, 3]
