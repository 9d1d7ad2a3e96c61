"""A retry time budget: the pure decision, its words, and the policy check."""

from core.retry import RetryPolicy, decide, describe, validate_policy


def test_a_retry_that_would_start_after_the_budget_is_not_taken():
    policy = RetryPolicy(max_attempts=10, initial_interval_s=60, backoff_coefficient=1,
                         jitter=False, budget_s=600)  # fmt: skip
    # 8 min 30 s after the first attempt started, a retry in 60 s still starts inside
    assert decide(policy, 3, retryable=True, elapsed_s=510)["retry"] is True
    # 9 min 30 s after, it would start at 10 min 30 s: no retry, though attempts remain
    decision = decide(policy, 4, retryable=True, elapsed_s=570)
    assert decision == {"retry": False, "reason": "no retry: budget of 10 min spent",
                        "budget_s": 600}  # fmt: skip
    assert describe(decision) == "no retry: budget of 10 min spent"


def test_the_budget_counts_a_retry_after_the_action_asked_for():
    policy = RetryPolicy(max_attempts=5, initial_interval_s=1, jitter=False, budget_s=30)
    assert decide(policy, 1, retryable=True, elapsed_s=2, retry_after=20)["retry"] is True
    assert decide(policy, 1, retryable=True, elapsed_s=2, retry_after=40)["retry"] is False


def test_without_a_budget_only_attempts_count():
    policy = RetryPolicy(max_attempts=3, initial_interval_s=1, jitter=False)
    assert decide(policy, 2, retryable=True, elapsed_s=10**9)["retry"] is True
    assert RetryPolicy.from_dict({"max_attempts": 2}, {"budget_s": 5}).budget_s == 5


def test_a_budget_must_be_a_positive_number_of_at_most_30_days():
    assert validate_policy({"budget_s": 90}) == {}
    assert validate_policy({"budget_s": 0.5}) == {}
    for bad in (0, -1, 30 * 86400 + 1):
        assert "at most 2592000" in validate_policy({"budget_s": bad})["budget_s"]
    for bad in ("10", True, None):
        assert validate_policy({"budget_s": bad})["budget_s"] == "must be a number"
