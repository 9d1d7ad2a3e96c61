"""Retry policies and the backoff they give: pure functions, no I/O."""

import random
from dataclasses import asdict, dataclass

from core.durations import duration

DEFAULT_POLICY = {
    "max_attempts": 3,
    "initial_interval_s": 1.0,
    "backoff_coefficient": 2.0,
    "max_interval_s": 60.0,
    "jitter": True,
}
# Optional fields: absent from an action's default policy unless someone sets them.
# `budget_s`: no retry starts later than this many seconds after the first attempt started.
OPTIONAL = {"budget_s": None}
FIELDS = {**DEFAULT_POLICY, **OPTIONAL}
MAX_BUDGET_S = 30 * 86400
LIMITS = {"max_attempts": (1, 100), "initial_interval_s": (0, 3600), "max_interval_s": (0, 86400)}


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 3
    initial_interval_s: float = 1.0
    backoff_coefficient: float = 2.0
    max_interval_s: float = 60.0
    jitter: bool = True
    budget_s: float | None = None

    @classmethod
    def from_dict(cls, *layers):
        """Merge policy dicts, later ones winning (action default, then the step's)."""
        merged = dict(FIELDS)
        for layer in layers:
            merged.update({k: v for k, v in (layer or {}).items() if k in FIELDS})
        return cls(**merged)

    def as_dict(self):
        return asdict(self)

    def delay_before(self, attempt, rng=random):
        """Seconds to wait before attempt number `attempt` (2 is the first retry)."""
        return compute_backoff(
            attempt - 1,
            initial=self.initial_interval_s,
            coefficient=self.backoff_coefficient,
            maximum=self.max_interval_s,
            jitter=self.jitter,
            rng=rng,
        )

    def schedule(self):
        """The nominal delay before each retry, without jitter: for previews."""
        return [
            compute_backoff(
                n, self.initial_interval_s, self.backoff_coefficient, self.max_interval_s
            )
            for n in range(1, self.max_attempts)
        ]

    def within_budget(self, elapsed_s, delay_s):
        """Whether a retry `delay_s` from now, `elapsed_s` after the first attempt started,
        still starts inside the budget (always, without one)."""
        return self.budget_s is None or elapsed_s + delay_s <= self.budget_s


def decide(
    policy,
    number,
    *,
    retryable,
    wanted=True,
    retry_after=None,
    max_retry_after_s=3600,
    elapsed_s=0.0,
):
    """What follows the failure of attempt `number` under `policy`: a retry
    `{"retry": True, "delay_s", "next_attempt", "max_attempts", "retry_after"}`, or
    `{"retry": False, "reason"}`. `wanted` is False when the run no longer wants the step;
    `retry_after` is the delay the action asked for (capped at `max_retry_after_s`);
    `elapsed_s` is the time since the step's first attempt started (for `budget_s`)."""
    if not wanted:
        return {"retry": False, "reason": "not retried: the run is stopping"}
    if not retryable:
        return {"retry": False, "reason": "non-retryable error"}
    if number >= policy.max_attempts:
        return {"retry": False, "reason": f"out of attempts ({number} of {policy.max_attempts})"}
    if retry_after is not None:
        delay = min(float(retry_after), max_retry_after_s)
    else:
        delay = policy.delay_before(number + 1)
    if not policy.within_budget(elapsed_s, delay):
        return {
            "retry": False,
            "reason": f"no retry: budget of {duration(policy.budget_s)} spent",
            "budget_s": policy.budget_s,
        }
    return {
        "retry": True,
        "delay_s": round(delay, 3),
        "next_attempt": number + 1,
        "max_attempts": policy.max_attempts,
        "retry_after": retry_after is not None,
    }


def describe(decision):
    """The decision in words, for the timeline."""
    if not decision:
        return ""
    if decision["retry"]:
        return (
            f"retry {decision['next_attempt']} of {decision['max_attempts']} "
            f"in {decision['delay_s']:.1f} s"
        )
    return decision["reason"]


def compute_backoff(failures, initial, coefficient, maximum, jitter=False, rng=random):
    """`min(initial * coefficient^(failures-1), maximum)`; jitter picks within ±20%."""
    if failures < 1:
        return 0.0
    delay = min(initial * coefficient ** (failures - 1), maximum)
    if jitter:
        delay *= rng.uniform(0.8, 1.2)
    return max(0.0, delay)


def validate_policy(policy):
    """Return {field: message} for a retry dict from a definition or form."""
    errors = {}
    if not isinstance(policy, dict):
        return {"": "must be an object"}
    for key in policy:
        if key not in FIELDS:
            errors[key] = f"unknown field; allowed: {', '.join(FIELDS)}"
    for key in ("max_attempts",):
        if key in policy and (type(policy[key]) is not int):
            errors[key] = "must be a whole number"
    for key in ("initial_interval_s", "backoff_coefficient", "max_interval_s", "budget_s"):
        value = policy.get(key)
        if key in policy and (isinstance(value, bool) or not isinstance(value, int | float)):
            errors[key] = "must be a number"
    if "jitter" in policy and not isinstance(policy["jitter"], bool):
        errors["jitter"] = "must be true or false"
    for key, (low, high) in LIMITS.items():
        value = policy.get(key)
        if key not in errors and value is not None and not low <= value <= high:
            errors[key] = f"must be between {low} and {high}"
    coefficient = policy.get("backoff_coefficient")
    if (
        "backoff_coefficient" not in errors
        and coefficient is not None
        and not 1 <= coefficient <= 10
    ):
        errors["backoff_coefficient"] = "must be between 1 and 10"
    budget = policy.get("budget_s")
    if "budget_s" not in errors and budget is not None and not 0 < budget <= MAX_BUDGET_S:
        errors["budget_s"] = f"must be more than 0 and at most {MAX_BUDGET_S} (30 days)"
    return errors
