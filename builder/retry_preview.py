"""What a step's retry policy means in time: the builder's live preview of the schedule.

Computed from `core.retry.RetryPolicy.schedule()`, the same backoff the engine uses, so
the preview and the worker cannot disagree.
"""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Preview:
    policy: RetryPolicy
    timeout_s: float
    rows: list
    hidden_rows: int
    wait_worst_s: float
    total_worst_s: float
    warnings: list

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
    rows = [
        Row(
            attempt, delay, delay * (1 - spread), delay * (1 + spread), round(100 * delay / longest)
        )
        for attempt, delay in enumerate(delays, start=2)
    ]
    wait = sum(row.high_s for row in rows)
    total = wait + policy.max_attempts * timeout
    shown = rows if len(rows) <= SHOWN_ROWS + 1 else rows[: SHOWN_ROWS - 1] + rows[-1:]
    return Preview(
        policy=policy,
        timeout_s=timeout,
        rows=shown,
        hidden_rows=len(rows) - len(shown),
        wait_worst_s=wait,
        total_worst_s=total,
        warnings=_warnings(policy, timeout, wait, total),
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


def duration(seconds):
    """0.25 -> '250 ms', 1.5 -> '1.5 s', 64 -> '1 min 4 s', 7380 -> '2 h 3 min'."""
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        text = f"{seconds:.1f}".rstrip("0").rstrip(".")
        return f"{text} s"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"
