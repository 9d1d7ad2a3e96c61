"""A step that fails twice then succeeds is retried with the policy's backoff."""

import pytest

from tests.runs import attempts_of, duplicated_transitions, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_three_step_run_retries_the_middle_step_with_backoff(worker, workspace):
    # Given echo -> fail twice then succeed (initial 0.2 s, coefficient 2) -> echo
    run = start(
        workspace,
        [
            {"key": "first", "action": "debug.echo", "input": {"n": "{{ input.n }}"}},
            {
                "key": "flaky",
                "action": "debug.fail",
                "input": {"fail_times": 2},
                "retry": {
                    "max_attempts": 3,
                    "initial_interval_s": 0.2,
                    "backoff_coefficient": 2,
                    "jitter": False,
                },
            },
            {"key": "last", "action": "debug.echo", "input": {"n": "{{ steps.first.output.n }}"}},
        ],
        input={"n": 7},
    )
    # When the worker runs it
    run = wait_for(run)
    # Then it succeeds, the middle step took 3 attempts spaced ~0.2 s then ~0.4 s
    assert run.status == "succeeded"
    assert run.output == {"n": 7}
    flaky = attempts_of(run, "flaky")
    assert [a.status for a in flaky] == ["failed", "failed", "succeeded"]
    gap1 = (flaky[1].started_at - flaky[0].ended_at).total_seconds()
    gap2 = (flaky[2].started_at - flaky[1].ended_at).total_seconds()
    assert 0.18 <= gap1 < 0.6, gap1
    assert 0.38 <= gap2 < 0.9, gap2
    assert flaky[0].retry_decision == {
        "retry": True,
        "delay_s": 0.2,
        "next_attempt": 2,
        "max_attempts": 3,
        "retry_after": False,
    }
    assert [len(attempts_of(run, key)) for key in ("first", "last")] == [1, 1]
    assert all(a.worker for a in flaky)
    assert duplicated_transitions(run) == []
