"""The run page's timeline: steps with their attempts on one time axis.

Everything is loaded in a constant number of queries (the run's steps, then the attempts
of the steps asked for), so a run with 1,000 attempts costs what a run with 3 does. The
live view polls `changes(run, after)` with an event-id cursor and re-renders only the
steps that new events touched (plus the ones still running), which is idempotent: a row
sent twice replaces itself.

Rows carry display strings only, computed here once, so that rendering them
(runner/templatetags/timeline_rows.py) only escapes and joins. The big JSON columns
(inputs, outputs, tracebacks) are never read for the timeline: a row's details are loaded
when it is opened (`step_detail` and `attempt_detail` in runner/views/run.py).
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Count, FloatField, Func, Max
from django.db.models.fields.json import KT, KeyTransform
from django.utils import timezone

from core.masking import mask
from core.templatetags.brickwork import duration
from runner import throttled
from runner.models import Attempt, RunEvent, StepRun
from runner.states import AttemptStatus, StepKind, StepStatus

# Attempts shown around the fold of a long step; the rest sit behind "show N more".
HEAD_ATTEMPTS, TAIL_ATTEMPTS = 2, 5


class Epoch(Func):
    """A moment as seconds since 1970: a float is read much faster than a datetime."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # julianday() reads Django's stored text; day 2440587.5 is 1970-01-01T00:00Z.
        template = "((julianday(%(expressions)s) - 2440587.5) * 86400.0)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


# Only the short parts of an error: its traceback and details stay in the database.
ERROR_PARTS = {"error_type": KT("error__type"), "error_message": KT("error__message")}
TIMES = {"started": Epoch("started_at"), "ended": Epoch("ended_at")}
STEP_COLUMNS = (
    "id",
    "key",
    "kind",
    "status",
    "attempt_count",
    "reused_from_id",
    "compensates__key",
    "action_version__version",
    "action_version__action__name",
    "handled",
    "wake_at",
    "waiting_for",
)
# Events whose message says why a step was skipped, which case a switch chose, or which
# error route took a failure, what a wait waits for and who decided an approval: shown
# under the step (runner/decisions.py and runner/waits.py write them).
DECISION_EVENTS = ("step.skipped", "step.handled", "step.succeeded", "step.waiting")
ATTEMPT_COLUMNS = ("id", "step_run_id", "number", "status", "duration_ms", "retry_decision")
WAITING = {AttemptStatus.RUNNING: "running…", AttemptStatus.SCHEDULED: "waiting"}


@dataclass
class AttemptRow:
    id: int
    number: int
    status: str
    start: str  # seconds from the run's start, for the bar
    length: str
    duration: str
    times: str = ""  # exact times for the bar's tooltip: "started 09:41:02.123 UTC · …"
    wait_start: str = ""  # the wait before it (backoff, a limit), drawn apart from the work
    wait_length: str = ""
    wait_times: str = ""
    due: str = ""  # a scheduled attempt: the ISO time it is due (a live countdown)
    due_in: str = ""  # and the countdown as rendered, before the script ticks it
    decision: str = ""  # "→ retry 2 of 5 in 0.8 s", "non-retryable: HTTP 422 ..."
    decision_kind: str = ""  # "retry" or "stop"
    error: str = ""  # "Type: message" under the row, unless the decision already quotes it
    error_message: str = ""
    ended_at: str = ""  # when it ended, as its tooltip says it (the next one's wait starts)


@dataclass
class StepGroup:
    key: str
    kind: str
    id: int | None = None  # None: an empty slot the live view may fill later
    status: str = ""
    ref: str = ""
    compensates: str = ""
    reused: bool = False
    attempt_count: int = 0
    started: bool = False
    start: str = "0.000"
    length: str = "0.000"
    duration: str = ""
    times: str = ""  # exact times for the bar's tooltip
    bar: str = ""  # how its bar is drawn: its status, or "backoff" while a retry is due
    error: str = ""
    error_fields: list = field(default_factory=list)  # [(path, "message; message")]
    why: str = ""  # "condition false: …", "case big: …", "handled by on_error[0] …"
    handled: bool = False  # failed, and an on_error route took the failure
    wake_at: str = ""  # a waiting step: ISO time it wakes or times out (a live countdown)
    waiting_for: str = ""  # "sleep", "event:<name>", "approval:<role>" (runner/waits.py)
    can_decide: bool = False  # set by the page for the member looking at it
    attempts: list = field(default_factory=list)
    order: int = 0
    items: object = None  # a for-each step's ItemCounts

    @property
    def for_each(self):
        return self.items is not None

    @property
    def dom_id(self):
        return f"step-{self.kind}-{self.key}"

    @property
    def placeholder(self):
        return self.id is None

    @property
    def folds(self):
        """Whether the middle attempts hide behind "show N more" (long steps only)."""
        return len(self.attempts) > HEAD_ATTEMPTS + TAIL_ATTEMPTS + 1

    @property
    def head(self):
        return self.attempts[:HEAD_ATTEMPTS] if self.folds else self.attempts

    @property
    def middle(self):
        return self.attempts[HEAD_ATTEMPTS:-TAIL_ATTEMPTS] if self.folds else []

    @property
    def tail(self):
        return self.attempts[-TAIL_ATTEMPTS:] if self.folds else []


@dataclass
class ItemCounts:
    """A for-each step's items by status, and their compensations' (one grouped query for
    every for-each of the run): what a step of 10,000 items shows instead of its items."""

    total: int = 0
    by_status: dict = field(default_factory=dict)
    undone: dict = field(default_factory=dict)

    @property
    def failed(self):
        return self.by_status.get(StepStatus.FAILED, 0)

    @property
    def summary(self):
        """[(status, count)] in the order a run moves through them."""
        order = (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.RUNNING)
        order += (StepStatus.PENDING, StepStatus.SKIPPED)
        return [(status, self.by_status[status]) for status in order if status in self.by_status]


def item_counts(run_id):
    """{for-each step id: ItemCounts} of a run, in one query."""
    rows = (
        StepRun.objects.filter(run_id=run_id, parent__isnull=False)
        .values_list("parent_id", "kind", "status")
        .annotate(n=Count("id"))
    )
    found = {}
    for parent_id, kind, status, n in rows:
        counts = found.setdefault(parent_id, ItemCounts())
        if kind == StepKind.ITEM:
            counts.total += n
            counts.by_status[status] = n
        else:
            counts.undone[status] = n
    return found


@dataclass
class Timeline:
    run: object
    groups: list
    total: float  # seconds on the axis
    cursor: int  # the last event id reflected here
    only_failures: bool = False

    @property
    def scale(self):
        return f"{self.total:.3f}"

    @property
    def axis(self):
        return [duration(round(self.total * f, 3)) for f in (0, 0.25, 0.5, 0.75, 1)]


def build(run, *, only_failures=False, keys=None, cursor=None, secrets=()):
    """The timeline of `run`; with `keys` only those (kind, key) steps are loaded, and
    `secrets` masked in the error messages shown.

    Reads the cursor first: rows read after it are at least as new, so nothing is missed
    (at worst a step is rendered again at the next poll).
    """
    if cursor is None:
        cursor = run.events.aggregate(last=Max("id"))["last"] or 0
    now = timezone.now()
    # From creation: a step starts (its first attempt scheduled) before the run's first
    # attempt starts, so the run's own started_at would cut the first bars short.
    origin = run.created_at
    total = max(((run.ended_at or now) - origin).total_seconds(), 0.001)
    # Times are seconds since 1970 from here on (see Epoch).
    now, origin = now.timestamp(), origin.timestamp()
    # A for-each's items are summed up per status below, never listed here (runner/views/
    # items.py pages through them).
    steps = list(
        StepRun.objects.filter(run_id=run.id, parent__isnull=True)
        .order_by("position", "id")
        .values(
            *STEP_COLUMNS,
            **TIMES,
            **ERROR_PARTS,
            error_fields=KeyTransform("fields", "error"),
        )
    )
    wanted = steps if keys is None else [s for s in steps if (s["kind"], s["key"]) in keys]
    attempts = (
        Attempt.objects.filter(step_run_id__in=[s["id"] for s in wanted])
        .order_by("number")
        .values(*ATTEMPT_COLUMNS, **TIMES, **ERROR_PARTS, scheduled=Epoch("scheduled_for"))
        if wanted
        else []
    )
    by_step = {}
    decided = any(
        s["status"] == StepStatus.SKIPPED or s["handled"] or not s["action_version__action__name"]
        for s in wanted
    )
    why = decision_notes(run.id) if decided else {}
    secrets = tuple(secrets)  # read once; none to mask is the usual case
    for step in wanted:
        _mask_error(step, secrets)
    previous_end = {}  # step id -> when its last attempt so far ended
    for attempt in attempts:
        if secrets:
            _mask_error(attempt, secrets)
        step_id = attempt["step_run_id"]
        row = _row(attempt, origin, now, *previous_end.get(step_id, (None, "")))
        by_step.setdefault(step_id, []).append(row)
        previous_end[step_id] = attempt["ended"], row.ended_at
    throttled.mark(run, wanted, by_step)
    nested = {
        s["id"]
        for s in wanted
        if s["kind"] == StepKind.ACTION and "for_each" in run.step_spec(s["key"])
    }
    counts = item_counts(run.id) if nested else {}

    groups = []
    for step in wanted:
        group = _group(step, by_step.get(step["id"], []), origin, now)
        group.why = mask(why.get((step["kind"], step["key"]), ""), secrets)  # a comment
        if step["id"] in nested:
            group.items = counts.get(step["id"], ItemCounts())
        if not step["action_version__action__name"]:
            group.ref = _engine_ref(run, step["key"])
        if only_failures:
            group.attempts = [r for r in group.attempts if r.status == AttemptStatus.FAILED]
            if not group.attempts and group.status != StepStatus.FAILED:
                # A hidden slot, so that a failure arriving later has a place to go.
                group = StepGroup(key=group.key, kind=group.kind)
        groups.append(group)
    if keys is None:
        groups += _placeholders(run, steps)
    return Timeline(run=run, groups=groups, total=total, cursor=cursor, only_failures=only_failures)


def decision_notes(run_id):
    """{(kind, key): why} from the events that decided the run's steps (one query). Their
    messages quote the definition (a condition, a case, a route), never data."""
    events = (
        RunEvent.objects.filter(run_id=run_id, type__in=DECISION_EVENTS, step_kind="action")
        .exclude(message="")
        .order_by("id")
        .values_list("step_kind", "step_key", "message")
    )
    return {(kind, key): message for kind, key, message in events}


def _mask_error(row, secrets):
    """The error parts of a step or attempt row, masked: the only user data a row shows."""
    for part in ("error_message", "error_fields"):
        if part in row:
            row[part] = mask(row[part], secrets)


def changes(run, after, *, only_failures=False, secrets=()):
    """What the live view needs after event `after`: the steps touched since, re-rendered."""
    new = RunEvent.objects.filter(run_id=run.id, id__gt=after)
    cursor = new.aggregate(last=Max("id"))["last"] or after
    touched = {
        _shown_as(kind, key)
        for kind, key in new.exclude(step_key="").values_list("step_kind", "step_key").distinct()
    }
    # Steps still running are re-sent every time: an event committed out of id order
    # (two workers claiming in parallel) can never leave a row stale.
    running = StepRun.objects.filter(run_id=run.id, status=StepStatus.RUNNING, parent__isnull=True)
    touched |= set(running.values_list("kind", "key"))
    timeline = build(run, only_failures=only_failures, keys=touched, cursor=cursor, secrets=secrets)
    return timeline


def _shown_as(kind, key):
    """The row an event's step is shown in: an item's (`key[3]`) is its for-each step's."""
    if "[" in key:
        return StepKind.ACTION, key.split("[", 1)[0]
    return kind, key


def _group(step, attempts, origin, now):
    group = StepGroup(
        key=step["key"],
        kind=step["kind"],
        id=step["id"],
        status=step["status"],
        ref=_ref(step),
        handled=step["handled"] is not None,
        compensates=step["compensates__key"] or "",
        reused=step["reused_from_id"] is not None,
        attempt_count=step["attempt_count"],
        duration=step["status"],
        attempts=attempts,
    )
    if step["status"] == StepStatus.WAITING:
        group.waiting_for = step["waiting_for"]
        group.wake_at = step["wake_at"].isoformat() if step["wake_at"] else ""
    if step["kind"] == StepKind.COMPENSATION:
        # Compensations follow in the order they were created (flex `order`), wherever
        # their placeholder sits in the page; action steps keep their definition order.
        group.order = step["id"]
    if step["started"] is not None:
        start = max(step["started"] - origin, 0)
        length = (step["ended"] or now) - step["started"]
        group.started, group.start, group.length = True, f"{start:.3f}", f"{length:.3f}"
        group.duration = duration(length)
        group.times = _span_text(step["started"], step["ended"], length)
    group.bar = group.status
    due = (AttemptStatus.SCHEDULED, throttled.STATUS)
    if group.status == StepStatus.RUNNING and attempts and attempts[-1].status in due:
        group.bar = "backoff"  # between attempts: waiting for the next one, not working
    if step["error_type"] is not None or step["error_message"] is not None:
        group.error = f"{step['error_type'] or 'Error'}: {step['error_message'] or ''}"
        fields = step["error_fields"] if isinstance(step["error_fields"], dict) else {}
        group.error_fields = [(path, _joined(errs)) for path, errs in fields.items()]
    return group


def _ref(step):
    if step["action_version__action__name"] is None:
        return ""  # a step the engine runs: named from the definition (`_engine_ref`)
    return f"{step['action_version__action__name']}@{step['action_version__version']}"


def _engine_ref(run, key):
    """A step without an action: a switch, a wait (sleep, event, approval), or a
    sub-workflow step (named by its child workflow)."""
    specs = run.definition.get("steps") if isinstance(run.definition, dict) else None
    found = [s for s in specs if isinstance(s, dict) and s.get("key") == key] if specs else []
    spec = found[0] if found else {}
    if spec.get("type") == "workflow":
        return f"sub-workflow {spec.get('workflow')}"
    return spec.get("type", "switch")


def _joined(messages):
    return "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)


def _row(attempt, origin, now, waited_from=None, waited_from_at=""):
    """The row of one attempt; `waited_from` is when the attempt before it ended: from
    then until this one started (or is due) it waited, drawn as a wait, not as work
    (`waited_from_at`: that time as its row said it)."""
    started = attempt["started"] is not None
    begun = attempt["started"] if started else attempt["scheduled"]
    end = attempt["ended"] or (now if started else begun)
    took = attempt["duration_ms"]
    row = AttemptRow(
        id=attempt["id"],
        number=attempt["number"],
        status=attempt["status"],
        start=f"{max(begun - origin, 0):.3f}",
        length=f"{max(end - begun, 0):.3f}",
        duration=duration(took / 1000) if took is not None else WAITING.get(attempt["status"], "—"),
    )
    begun_at = _clock(begun)  # said in both tooltips: formatted once
    if started:
        row.ended_at = _clock(attempt["ended"]) if attempt["ended"] is not None else ""
        row.times = _span_text(begun, attempt["ended"], end - begun, begun_at, row.ended_at)
    else:
        row.times = f"due {begun_at} UTC"
        row.due, row.due_in = _iso(begun), countdown(begun - now)
    if waited_from is not None and begun > waited_from:
        row.wait_start = f"{max(waited_from - origin, 0):.3f}"
        row.wait_length = f"{begun - waited_from:.3f}"
        verb = "waited" if started else "waits"
        row.wait_times = (
            f"{verb} {duration(begun - waited_from)}: "
            f"{waited_from_at or _clock(waited_from)} to {begun_at} UTC"
        )
    message = attempt["error_message"]
    row.decision, row.decision_kind = describe_decision(attempt["retry_decision"], message)
    if row.decision_kind == "retry":
        row.decision = f"→ {row.decision}"
    has_error = attempt["error_type"] is not None or message is not None
    if has_error and not row.decision.startswith("non-retryable:"):
        row.error = f"{attempt['error_type'] or 'Error'}: {message or ''}"
        row.error_message = message or ""
    return row


def countdown(seconds):
    """ "3 s", "2 min 5 s": as static/js/countdown.js writes it, which ticks it on."""
    if seconds <= 0:
        return "a moment"
    total = math.ceil(seconds)
    days, hours = divmod(total, 86400)[0], total % 86400 // 3600
    minutes, rest = total % 3600 // 60, total % 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {rest} s"
    return f"{rest} s"


def _clock(seconds):
    """09:41:02.123 (UTC) from seconds since 1970: the time of day by arithmetic, as
    `datetime.fromtimestamp` rounds it (to the microsecond, then cut to the millisecond).
    Four of these per attempt: strftime cost the page of 1,000 attempts 15 ms."""
    whole = math.floor(seconds)
    micros = round((seconds - whole) * 1_000_000)  # exact: the whole part is taken first
    whole, micros = (whole + 1, 0) if micros == 1_000_000 else (whole, micros)
    hours, rest = divmod(whole % 86400, 3600)
    millis = micros // 1000
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{millis:03d}"


def _iso(seconds):
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _span_text(started, ended, length, started_at="", ended_at=""):
    """ "09:41:02.123 to 09:41:03.456 UTC · 1.3 s" (or "… running, 1.3 s so far");
    `started_at` and `ended_at` are their `_clock()`, when the caller has them already."""
    started_at = started_at or _clock(started)
    if ended is None:
        return f"started {started_at} UTC · running, {duration(length)} so far"
    return f"{started_at} to {ended_at or _clock(ended)} UTC · {duration(length)}"


def _placeholders(run, steps):
    """Empty slots for compensations that may still start, so the live view can fill them."""
    if run.is_finished:
        return []
    started = {s["key"] for s in steps if s["kind"] == StepKind.COMPENSATION}
    return [
        StepGroup(key=s["key"], kind=StepKind.COMPENSATION)
        for s in steps
        if s["kind"] == StepKind.ACTION
        and s["key"] not in started
        and run.step_spec(s["key"]).get("compensate")
    ]


def describe_decision(decision, message):
    """("retry 2 of 5 in 0.8 s", "retry") or ("non-retryable: HTTP 422 ...", "stop").

    `message` is the attempt's error message, quoted when it is why nothing was retried.
    """
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
    if reason == "non-retryable error":
        return f"non-retryable: {message}" if message else "non-retryable", "stop"
    return reason, "stop"
