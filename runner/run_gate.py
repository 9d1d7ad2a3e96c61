"""A workflow's limits on its own runs: `max_concurrent_runs`, and a `concurrency` key.

    "max_concurrent_runs": 2,
    "concurrency": {"key": "{{ input.customer_id }}", "limit": 1}

A run takes its place when its first attempt is claimed (the run goes queued -> running),
or when a first step that holds no attempt (a wait, a sub-workflow) starts (runner/wait_steps.py
`admitted`), under a lock on its workflow's row, so two workers cannot both take the last place. The
others stay `queued` and start in the order they were created: a run goes only when no
older run of its workflow (of its key) is still queued, and fewer than the limit are
running or compensating. A place is given back by the run ending, so there is nothing to release and
nothing a crash can leak. The database is the truth here, not Redis: a run's place lasts
as long as the run, across any number of workers, sleeps and retries.
"""

import json
import random
from dataclasses import dataclass

from builder.models import Workflow
from core import references
from runner.models import Run
from runner.states import RunStatus

MAX_KEY = 200
GOING = (RunStatus.RUNNING, RunStatus.COMPENSATING)
# A waiting run asks again after this per run ahead of it, at most MAX_WAIT_S.
WAIT_PER_RUN_S = 0.25
MAX_WAIT_S = 5.0


@dataclass(frozen=True)
class Wait:
    """Why a run may not start yet: the limit's name and what it allows."""

    name: str
    reason: str
    delay_s: float


def key_of(definition, input):
    """The run's concurrency key: `concurrency.key` rendered with the run input ("" when
    the definition has none; a missing value is a key of its own, "")."""
    template = (definition.get("concurrency") or {}).get("key")
    if not template:
        return ""
    try:
        value = references.render(template, {"input": input})
    except references.MissingReference:
        return ""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text[:MAX_KEY]


def gated(definition):
    return bool(definition.get("max_concurrent_runs") or definition.get("concurrency"))


def wait(run):
    """None when the run may start now, else a Wait. Call inside the claim's transaction.

    1. Lock the workflow's row (FOR NO KEY UPDATE: new runs can still point at it).
    2. First come, first served: while an older run of the workflow waits, this one waits.
    3. Else it goes if fewer than `max_concurrent_runs` are running or compensating; then
       the same among the runs of its key, with the key's limit (an older run of another
       key does not hold it back there).
    """
    definition = run.definition
    if not gated(definition):
        return None
    row = Run.objects.filter(id=run.id).values("workflow_id", "concurrency_key").first()
    if row is None or row["workflow_id"] is None:
        return None
    workflow_id, key = row["workflow_id"], row["concurrency_key"]
    list(Workflow.objects.select_for_update(no_key=True).filter(id=workflow_id).values("id"))
    runs = Run.objects.filter(workflow_id=workflow_id).exclude(id=run.id)
    most = definition.get("max_concurrent_runs")
    if most and (place := _place(runs, run.id, most)):
        return _wait("max_concurrent_runs", f"{most} runs at once", place)
    concurrency = definition.get("concurrency") or {}
    if concurrency.get("key"):
        most = concurrency.get("limit") or 1
        if place := _place(runs.filter(concurrency_key=key), run.id, most):
            plural = "s" if most > 1 else ""
            return _wait(
                f"concurrency key {key or '(empty)'}", f"{most} run{plural} at once", place
            )
    return None


def _place(runs, run_id, most):
    """0 when the run may go: no older run waits, and fewer than `most` are going; else
    its place in the line (1: next)."""
    ahead = runs.filter(status=RunStatus.QUEUED, id__lt=run_id).count()
    if ahead == 0 and runs.filter(status__in=GOING).count() < most:
        return 0
    return ahead + 1


def _wait(name, allows, place):
    delay = min(MAX_WAIT_S, WAIT_PER_RUN_S * place) * random.uniform(0.8, 1.2)
    return Wait(name=name, reason=f"{allows}; number {place} in line", delay_s=delay)
