"""The run page's timeline: steps with their attempts on one time axis.

Everything is loaded in a constant number of queries (the run's steps, then the attempts
of the steps asked for), so a run with 1,000 attempts costs what a run with 3 does. The
live view polls `changes(run, after)` with an event-id cursor and re-renders only the
steps that new events touched (plus the ones still running), which is idempotent: a row
sent twice replaces itself.
"""

from dataclasses import dataclass, field

from django.db.models import Max
from django.utils import timezone

from runner.models import Attempt, RunEvent, StepRun
from runner.states import AttemptStatus, StepKind, StepStatus

# Attempts shown around the fold of a long step; the rest sit behind "show N more".
HEAD_ATTEMPTS, TAIL_ATTEMPTS = 2, 5


@dataclass
class AttemptRow:
    attempt: Attempt
    start: float  # seconds from the run's start, for the bar
    length: float
    decision: str = ""
    decision_kind: str = ""  # "retry" or "stop"

    @property
    def show_error(self):
        """The error line under the row, unless the decision already quotes it."""
        return bool(self.attempt.error) and not self.decision.startswith("non-retryable:")


@dataclass
class StepGroup:
    step: StepRun | None
    key: str
    kind: str
    compensates: str = ""
    attempts: list = field(default_factory=list)
    start: float = 0.0
    length: float = 0.0

    @property
    def dom_id(self):
        return f"step-{self.kind}-{self.key}"

    @property
    def placeholder(self):
        return self.step is None

    @property
    def folded(self):
        """(first, hidden middle, last) attempts; the middle is empty for short steps."""
        rows = self.attempts
        if len(rows) <= HEAD_ATTEMPTS + TAIL_ATTEMPTS + 1:
            return rows, [], []
        return rows[:HEAD_ATTEMPTS], rows[HEAD_ATTEMPTS:-TAIL_ATTEMPTS], rows[-TAIL_ATTEMPTS:]

    @property
    def order(self):
        # Action steps keep their definition order; compensations follow in the order
        # they were created (flex `order`), wherever their placeholder sits in the page.
        if self.kind == StepKind.COMPENSATION and self.step is not None:
            return self.step.id
        return 0


@dataclass
class Timeline:
    run: object
    groups: list
    total: float  # seconds on the axis
    cursor: int  # the last event id reflected here
    only_failures: bool = False

    @property
    def axis(self):
        return [round(self.total * f, 3) for f in (0, 0.25, 0.5, 0.75, 1)]


def build(run, *, only_failures=False, keys=None, cursor=None):
    """The timeline of `run`; with `keys` only those (kind, key) steps are loaded.

    Reads the cursor first: rows read after it are at least as new, so nothing is missed
    (at worst a step is rendered again at the next poll).
    """
    if cursor is None:
        cursor = run.events.aggregate(last=Max("id"))["last"] or 0
    now = timezone.now()
    origin = run.started_at or run.created_at
    total = max(((run.ended_at or now) - origin).total_seconds(), 0.001)
    steps = list(
        StepRun.objects.filter(run_id=run.id)
        .select_related("action_version__action", "compensates")
        .order_by("position", "id")
    )
    wanted = steps if keys is None else [s for s in steps if (s.kind, s.key) in keys]
    attempts = (
        Attempt.objects.filter(step_run_id__in=[s.id for s in wanted]).order_by("number")
        if wanted
        else []
    )
    by_step = {}
    for attempt in attempts:
        by_step.setdefault(attempt.step_run_id, []).append(attempt)

    groups = []
    for step in wanted:
        group = _group(step, by_step.get(step.id, []), origin, now)
        if only_failures:
            group.attempts = [r for r in group.attempts if r.attempt.status == AttemptStatus.FAILED]
            if not group.attempts and step.status != StepStatus.FAILED:
                # A hidden slot, so that a failure arriving later has a place to go.
                group = StepGroup(step=None, key=step.key, kind=step.kind)
        groups.append(group)
    if keys is None:
        groups += _placeholders(run, steps)
    return Timeline(run=run, groups=groups, total=total, cursor=cursor, only_failures=only_failures)


def changes(run, after, *, only_failures=False):
    """What the live view needs after event `after`: the steps touched since, re-rendered."""
    new = RunEvent.objects.filter(run_id=run.id, id__gt=after)
    cursor = new.aggregate(last=Max("id"))["last"] or after
    touched = set(new.exclude(step_key="").values_list("step_kind", "step_key").distinct())
    # Steps still running are re-sent every time: an event committed out of id order
    # (two workers claiming in parallel) can never leave a row stale.
    running = StepRun.objects.filter(run_id=run.id, status=StepStatus.RUNNING)
    touched |= set(running.values_list("kind", "key"))
    timeline = build(run, only_failures=only_failures, keys=touched, cursor=cursor)
    return timeline


def _group(step, attempts, origin, now):
    group = StepGroup(
        step=step,
        key=step.key,
        kind=step.kind,
        compensates=step.compensates.key if step.compensates_id else "",
    )
    if step.started_at:
        group.start = max((step.started_at - origin).total_seconds(), 0)
        group.length = ((step.ended_at or now) - step.started_at).total_seconds()
    for attempt in attempts:
        begun = attempt.started_at or attempt.scheduled_for
        end = attempt.ended_at or (now if attempt.started_at else begun)
        row = AttemptRow(
            attempt=attempt,
            start=max((begun - origin).total_seconds(), 0),
            length=max((end - begun).total_seconds(), 0),
        )
        row.decision, row.decision_kind = describe_decision(attempt)
        group.attempts.append(row)
    return group


def _placeholders(run, steps):
    """Empty slots for compensations that may still start, so the live view can fill them."""
    if run.is_finished:
        return []
    started = {s.key for s in steps if s.kind == StepKind.COMPENSATION}
    return [
        StepGroup(step=None, key=s.key, kind=StepKind.COMPENSATION)
        for s in steps
        if s.kind == StepKind.ACTION
        and s.key not in started
        and run.step_spec(s.key).get("compensate")
    ]


def describe_decision(attempt):
    """("retry 2 of 5 in 0.8 s", "retry") or ("non-retryable: HTTP 422 ...", "stop")."""
    decision = attempt.retry_decision
    if not decision:
        return "", ""
    if decision.get("retry"):
        text = (
            f"retry {decision['next_attempt']} of {decision['max_attempts']} "
            f"in {decision['delay_s']:.1f} s"
        )
        if decision.get("retry_after"):
            text += " (Retry-After)"
        return text, "retry"
    reason = decision.get("reason", "not retried")
    message = (attempt.error or {}).get("message", "")
    if reason == "non-retryable error":
        return f"non-retryable: {message}" if message else "non-retryable", "stop"
    return reason, "stop"
