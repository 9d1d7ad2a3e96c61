"""Independent steps run at the same time; a fan-in step starts once, after all of them."""

import pytest

from tests.runs import attempts_of, duplicated_transitions, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_branches_overlap_and_fan_in_starts_once_after_both(worker, workspace):
    run = start(
        workspace,
        [
            {"key": "a", "action": "debug.echo", "input": {"x": 1}},
            {"key": "b", "action": "debug.sleep", "input": {"ms": 400}, "after": ["a"]},
            {"key": "c", "action": "debug.sleep", "input": {"ms": 400}, "after": ["a"]},
            {
                "key": "d",
                "action": "debug.echo",
                "input": {"b": "{{ steps.b.output }}", "c": "{{ steps.c.output.slept_ms }}"},
                "after": ["b", "c"],
            },
        ],
    )
    run = wait_for(run)
    assert run.status == "succeeded"
    (b,), (c,), d = attempts_of(run, "b"), attempts_of(run, "c"), attempts_of(run, "d")
    assert b.started_at < c.ended_at and c.started_at < b.ended_at, "b and c did not overlap"
    assert len(d) == 1
    assert d[0].started_at >= max(b.ended_at, c.ended_at)
    assert run.output == {"b": {"slept_ms": 400}, "c": 400}
    assert duplicated_transitions(run) == []


def test_final_branches_give_one_output_each(worker, workspace):
    run = start(
        workspace,
        [
            {"key": "left", "action": "debug.echo", "input": {"side": "l"}, "after": []},
            {"key": "right", "action": "debug.echo", "input": {"side": "r"}, "after": []},
        ],
    )
    run = wait_for(run)
    assert run.output == {"left": {"side": "l"}, "right": {"side": "r"}}
