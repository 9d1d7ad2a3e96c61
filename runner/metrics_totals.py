"""What /metrics counts, folded as history settles, so a scrape never reads all history.

A scrape adds the runs that ended since the last fold (and more than SETTLE ago, so no
transaction still in flight can end one behind the watermark) to running totals in
`MetricTotal`, at most MAX_FOLD runs per scrape, then adds on top, live, the runs still
active and those that ended within SETTLE. On a database with a long history the first
scrapes catch up MAX_FOLD runs at a time: the counters rise to their value over a few
scrapes, never down.
Both read runs by an index (active runs, `ended_at`) and their attempts and steps by
`run_id`: the cost follows what is happening now, not the workspace's history. Webhook
deliveries never change once written, so they fold by id. Totals outlive retention: a
pruned run stays counted, so the counters never go down.
"""

import json
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum

SETTLE = timedelta(seconds=60)
MAX_FOLD = 20_000  # runs folded per scrape at most
# Attempt duration buckets, in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


def figures(now):
    """{family: {labels tuple: value}}: the folded totals plus what happened since."""
    with transaction.atomic():
        until = _fold_runs(now)
        delivered = _fold_deliveries(now)
        totals = _totals()
    recent = now - SETTLE if until is not None else None
    for live in (_of_runs(_runs_since(recent)), _deliveries_since(delivered)):
        for family, values in live.items():
            for labels, value in values.items():
                totals[family][labels] += value
    return totals


def _fold_runs(now):
    """Fold the runs that ended in (watermark, now - SETTLE], at most MAX_FOLD of them;
    the new watermark (None while no run has ended)."""
    from runner.models import Run

    mark = _watermark("runs")
    settled = now - SETTLE
    start = mark.until
    if start is None:
        first = Run.objects.filter(ended_at__isnull=False).aggregate(at=Min("ended_at"))["at"]
        if first is None:
            return None  # nothing ended yet: everything is live
        start = first - timedelta(microseconds=1)
    end = settled
    cap = (
        Run.objects.filter(ended_at__gt=start, ended_at__lte=settled)
        .order_by("ended_at")
        .values_list("ended_at", flat=True)[MAX_FOLD : MAX_FOLD + 1]
    )
    for at in cap:
        # The runs before the (MAX_FOLD+1)th; all of that instant's if they fill the cap.
        end = at - timedelta(microseconds=1) if at - timedelta(microseconds=1) > start else at
    if end > start:
        _add(_of_runs(Run.objects.filter(ended_at__gt=start, ended_at__lte=end)))
        mark.until = end
        mark.save(update_fields=["until"])
    return mark.until


def _fold_deliveries(now):
    from builder.models import WebhookDelivery

    mark = _watermark("deliveries")
    settled = WebhookDelivery.objects.filter(
        id__gt=mark.position or 0, received_at__lte=now - SETTLE
    )
    last = settled.order_by("-id").values_list("id", flat=True).first()
    if last is not None:
        _add(_deliveries_since(mark.position or 0, up_to=last))
        mark.position = last
        mark.save(update_fields=["position"])
    return mark.position or 0


def _runs_since(recent):
    """Runs counted live: still active, or ended after `recent` (all when None)."""
    from runner.models import Run
    from runner.states import ACTIVE_RUN

    if recent is None:
        return Run.objects.all()
    return Run.objects.filter(Q(status__in=ACTIVE_RUN) | Q(ended_at__gt=recent))


def _of_runs(runs):
    """The families' values over a set of runs, their attempts and their steps."""
    from runner.models import Attempt, StepRun
    from runner.states import ACTIVE_RUN, AttemptStatus, StepKind

    found = defaultdict(lambda: defaultdict(float))
    for row in runs.values("workflow__slug", "action__name", "status").annotate(n=Count("id")):
        name = row["workflow__slug"] or row["action__name"] or ""
        family = "runs_active" if row["status"] in ACTIVE_RUN else "runs_ended"
        labels = (row["status"],) if family == "runs_active" else (name, row["status"])
        found[family][labels] += row["n"]
        found["runs_started"][(name,)] += row["n"]

    attempts = Attempt.objects.filter(run__in=runs)
    action = F("step_run__action_version__action__name")
    for row in attempts.values("status", name=action).annotate(n=Count("id")):
        found["attempts"][(row["name"], row["status"])] += row["n"]
    for row in attempts.filter(number__gt=1).values(name=action).annotate(n=Count("id")):
        found["retries"][(row["name"],)] += row["n"]
    ended = attempts.filter(
        status__in=[AttemptStatus.SUCCEEDED, AttemptStatus.FAILED], duration_ms__isnull=False
    )
    buckets = {
        f"le_{i}": Count("id", filter=Q(duration_ms__lte=bound * 1000))
        for i, bound in enumerate(BUCKETS)
    }
    for row in ended.values(name=action).annotate(
        total=Count("id"), total_ms=Sum("duration_ms"), **buckets
    ):
        for i in range(len(BUCKETS)):
            found["duration"][(row["name"], str(i))] += row[f"le_{i}"]
        found["duration"][(row["name"], "count")] += row["total"]
        found["duration"][(row["name"], "sum_ms")] += row["total_ms"] or 0

    steps = StepRun.objects.filter(run__in=runs, kind=StepKind.COMPENSATION)
    for row in steps.values("status").annotate(n=Count("id")):
        found["compensations"][(row["status"],)] += row["n"]
    return found


def _deliveries_since(after_id, up_to=None):
    from builder.models import WebhookDelivery

    rows = WebhookDelivery.objects.filter(id__gt=after_id)
    if up_to is not None:
        rows = rows.filter(id__lte=up_to)
    found = defaultdict(lambda: defaultdict(float))
    for row in rows.values("verdict").annotate(n=Count("id")):
        found["deliveries"][(row["verdict"],)] += row["n"]
    return found


def _add(found):
    from runner.models import MetricTotal

    for family, values in found.items():
        if family == "runs_active":
            continue  # a gauge: always live
        for labels, value in values.items():
            total, _ = MetricTotal.objects.select_for_update().get_or_create(
                family=family, labels=json.dumps(labels)
            )
            MetricTotal.objects.filter(id=total.id).update(value=F("value") + value)


def _totals():
    from runner.models import MetricTotal

    totals = defaultdict(lambda: defaultdict(float))
    for family, labels, value in MetricTotal.objects.values_list("family", "labels", "value"):
        totals[family][tuple(json.loads(labels))] = value
    return totals


def _watermark(name):
    from runner.models import MetricWatermark

    mark, _ = MetricWatermark.objects.select_for_update().get_or_create(name=name)
    return mark
