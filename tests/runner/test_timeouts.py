"""A timeout counts as a failed, retryable attempt."""

import pytest

from tests.runs import attempts_of, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_attempts_past_the_step_timeout_fail_and_are_retried(worker, workspace):
    run = start(
        workspace,
        [
            {
                "key": "slow",
                "action": "debug.sleep",
                "input": {"ms": 5000},
                "timeout_s": 0.3,
                "retry": {"max_attempts": 2, "initial_interval_s": 0.05},
            }
        ],
    )
    run = wait_for(run, timeout=15)
    assert run.status == "failed"
    slow = attempts_of(run, "slow")
    assert [a.error["type"] for a in slow] == ["AttemptTimeout", "AttemptTimeout"]
    assert all(0.25 <= a.duration_ms / 1000 < 2 for a in slow)
    assert slow[0].retry_decision["retry"] is True
    assert slow[1].retry_decision == {"retry": False, "reason": "out of attempts (2 of 2)"}
