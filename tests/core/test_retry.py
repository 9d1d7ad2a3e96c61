import random

from core.retry import RetryPolicy, compute_backoff, validate_policy


def test_backoff_is_exponential_and_capped():
    delays = [compute_backoff(n, 0.2, 2, 1.0) for n in range(1, 6)]
    assert delays == [0.2, 0.4, 0.8, 1.0, 1.0]


def test_jitter_stays_within_twenty_percent():
    rng = random.Random(1)
    for _ in range(200):
        assert 0.8 <= compute_backoff(1, 1, 2, 10, jitter=True, rng=rng) <= 1.2


def test_policy_layers_step_over_action_defaults():
    policy = RetryPolicy.from_dict(
        {"max_attempts": 5, "initial_interval_s": 2}, {"max_attempts": 2}
    )
    assert (policy.max_attempts, policy.initial_interval_s) == (2, 2)
    assert RetryPolicy(max_attempts=4, initial_interval_s=1, jitter=False).schedule() == [1, 2, 4]


def test_bad_policies_get_one_message_per_field():
    errors = validate_policy(
        {"max_attempts": "3", "backoff_coefficient": 0.5, "jitter": "yes", "color": 1}
    )
    assert set(errors) == {"max_attempts", "backoff_coefficient", "jitter", "color"}
    assert validate_policy({"max_attempts": 3, "initial_interval_s": 0.5}) == {}
