"""What a step's retry policy means in time: the builder's live preview of the schedule.

Computed from `core.retry.RetryPolicy.schedule()`, the same backoff the engine uses, so
the preview and the worker cannot disagree.
"""

from dataclasses import dataclass
from itertools import accumulate

from core.durations import duration
from core.retry import RetryPolicy, validate_policy

JITTER = 0.2  # compute_backoff picks within ±20%
SANITY_LIMIT_S = 3600  # a step that can stay failing for over an hour deserves a warning
SHOWN_ROWS = 10


@dataclass(frozen=True)
class Row:
    attempt: int
    delay_s: float
    low_s: float
    high_s: float
    percent: int  # of the longest delay, for the bar
    starts_s: float  # after the first attempt started, if every attempt failed at once
    cut: bool  # past the time budget: never runs


@dataclass(frozen=True)
class Preview:
    policy: RetryPolicy
    timeout_s: float
    rows: list
    hidden_rows: int
    wait_worst_s: float
    total_worst_s: float
    warnings: list
    # With a time budget: the most attempts it lets start (attempts that fail at once).
    budget_attempts: int | None = None
    capped: bool = False  # the worst case is the budget plus the last attempt's timeout

    @property
    def attempts(self):
        return self.policy.max_attempts


def preview(step, action_version):
    """The schedule of `step` (a draft step dict), or None while its retry fields are invalid.

    The policy is the action's default overlaid with the step's own, as the engine does.
    """
    own = step.get("retry")
    if own is not None and validate_policy(own):
        return None
    timeout = step.get("timeout_s")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        timeout = action_version.timeout_s if action_version else 30
    policy = RetryPolicy.from_dict(action_version.retry_policy if action_version else {}, own)
    spread = JITTER if policy.jitter else 0
    delays = policy.schedule()
    longest = max(delays, default=0) or 1
    budget = policy.budget_s
    rows = [
        Row(
            attempt,
            delay,
            delay * (1 - spread),
            delay * (1 + spread),
            round(100 * delay / longest),
            starts,
            budget is not None and not policy.within_budget(starts - delay, delay),
        )
        for attempt, delay, starts in zip(
            range(2, policy.max_attempts + 1), delays, accumulate(delays), strict=True
        )
    ]
    kept = [row for row in rows if not row.cut]
    wait = sum(row.high_s for row in kept)
    total = wait + (len(kept) + 1) * timeout
    capped = budget is not None and budget + timeout < total
    if capped:
        total = budget + timeout  # the last retry starts inside the budget
    shown = rows if len(rows) <= SHOWN_ROWS + 1 else rows[: SHOWN_ROWS - 1] + rows[-1:]
    return Preview(
        policy=policy,
        timeout_s=timeout,
        rows=shown,
        hidden_rows=len(rows) - len(shown),
        wait_worst_s=wait,
        total_worst_s=total,
        warnings=_warnings(policy, timeout, wait, total),
        budget_attempts=len(kept) + 1 if budget is not None else None,
        capped=capped,
    )


def _warnings(policy, timeout, wait, total):
    warnings = []
    running = policy.max_attempts * timeout
    if wait > running:
        warnings.append(
            f"Waiting between retries ({duration(wait)} at worst) takes longer than the "
            f"{policy.max_attempts} attempts can run ({policy.max_attempts} × "
            f"{duration(timeout)} timeout): consider a lower max interval or fewer attempts."
        )
    if total > SANITY_LIMIT_S:
        warnings.append(
            f"At worst this step keeps the run busy for {duration(total)} before it fails "
            "and compensation starts."
        )
    return warnings
