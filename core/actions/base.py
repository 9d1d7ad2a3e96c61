"""What an action receives when it runs."""

import time
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class ActionContext:
    """Everything an action may know about the attempt it is running in."""

    run_id: int
    step_key: str
    attempt: int
    idempotency_key: str  # "<run id>:<step key>", the same across a step's attempts
    deadline: float  # time.time() by which the attempt must end
    workspace_id: int | None = None
    secrets: dict = field(default_factory=dict, repr=False)

    def remaining(self):
        """Seconds left before the deadline (never negative)."""
        return max(0.0, self.deadline - time.time())
