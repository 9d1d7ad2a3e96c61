"""What the soak counts once the system is quiet again, straight from the database."""

from collections import Counter

from django.db.models import Count

from runner.models import Attempt, Run, RunEvent
from runner.soak.workload import expected_status
from runner.states import ACTIVE_RUN, AttemptStatus

# Events that may legitimately repeat with the same key.
REPEATABLE = ("run.flagged",)


def build(workspace, session, accepted, unanswered):
    """accepted: {n: kind} start_run returned; unanswered: {n: kind} it raised for."""
    runs = Run.objects.filter(workspace=workspace, input__soak=session)
    found = {row["input"]["n"]: row for row in runs.values("id", "input", "status")}
    lost = sorted(n for n in accepted if n not in found)
    stuck = [row["id"] for row in found.values() if row["status"] in ACTIVE_RUN]
    unexpected = Counter(
        f"{kind}: {found[n]['status']}"
        for n, kind in {**accepted, **unanswered}.items()
        if n in found
        and found[n]["status"] not in ACTIVE_RUN
        and found[n]["status"] != expected_status(kind)
    )
    run_ids = [row["id"] for row in found.values()]
    return {
        "submitted": len(accepted),
        "submit_errors": len(unanswered),
        "submit_errors_that_became_runs": sum(1 for n in unanswered if n in found),
        "ended": dict(Counter(row["status"] for row in found.values() if row["id"] not in stuck)),
        "lost": len(lost),
        "lost_numbers": lost[:20],
        "stuck": len(stuck),
        "stuck_runs": stuck[:20],
        "duplicated_transitions": duplicated_transitions(run_ids),
        "unexpected_outcomes": dict(unexpected),
        "retried_steps": retried_steps(run_ids),
    }


def duplicated_transitions(run_ids):
    """Two events for the same transition of the same run, step and attempt."""
    rows = (
        RunEvent.objects.filter(run_id__in=run_ids)
        .exclude(type__in=REPEATABLE)
        .values("run_id", "type", "step_key", "step_kind", "attempt", "to_status")
        .annotate(times=Count("id"))
        .filter(times__gt=1)
    )
    return len(rows)


def retried_steps(run_ids):
    """Why an action ran again: the reason each retried attempt failed, counted."""
    failed = Attempt.objects.filter(
        run_id__in=run_ids, status=AttemptStatus.FAILED, retry_decision__retry=True
    ).values_list("error", flat=True)
    return dict(Counter(_reason(error or {}) for error in failed))


def _reason(error):
    message = error.get("message", "")
    if error.get("type") == "AttemptTimeout":
        if "worker running it stopped" in message:
            return "worker killed mid-attempt (expired by the sweeper)"
        return "attempt deadline passed"
    if "on purpose" in message:
        return "planned failure (debug.fail)"
    return f"{error.get('type', 'error')}: {message[:60]}"
