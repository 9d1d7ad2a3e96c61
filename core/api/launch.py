"""Answering a POST that starts a run: once per Idempotency-Key, then maybe wait for its end.

202 with the run as it is; 200 when the request asked to `wait` and the run ended in that
time, or when the key had been used before (the earlier run, not a second one). Without
`wait` the request that made the run answers 202 even if a fast worker has already ended
it: the status says who made the run, and twenty racing duplicates must see one 202.
"""

import time

from core.api import idempotency
from core.api.serialize import run_summary, runs_of, secret_values
from runner.models import Run
from runner.states import FINISHED_RUN

FIRST_POLL_S = 0.02
MAX_POLL_S = 0.25


def launch(request, payload, idempotency_key, start):
    """Run `start()` at most once per key; `payload` is the validated request body."""
    body = payload.model_dump(by_alias=True)
    body_hash = idempotency.fingerprint(request, body)
    run, created = idempotency.run_once(request.workspace, idempotency_key, body_hash, start)
    if payload.wait:
        wait_for_end(run.id, payload.wait)
    run = runs_of(request.workspace).get(id=run.id)
    summary = run_summary(run, secret_values(request.workspace))
    ended_while_waiting = bool(payload.wait) and run.is_finished
    return (202 if created and not ended_while_waiting else 200), summary


def wait_for_end(run_id, seconds):
    """Poll the run's status until it ends or `seconds` pass (a short GET per poll)."""
    deadline = time.monotonic() + seconds
    interval = FIRST_POLL_S
    while True:
        status = Run.objects.filter(id=run_id).values_list("status", flat=True).first()
        left = deadline - time.monotonic()
        if status in FINISHED_RUN or left <= 0:
            return status
        time.sleep(min(interval, left))
        interval = min(interval * 1.5, MAX_POLL_S)
