"""`GET /metrics` in Prometheus format, computed at scrape time from PostgreSQL and Redis.

Counters kept in a worker's memory would never reach the web process that is scraped, and
would reset with every worker; the database already holds every run, attempt and delivery,
so each scrape runs a handful of aggregate queries instead (one per family, on indexed
columns). Queue depth comes from the broker (Redis or RabbitMQ).
"""

import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

# Attempt duration buckets, in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class BrickworkCollector:
    def collect(self):
        yield from _runs()
        yield from _attempts()
        yield from _steps()
        yield from _workers()
        yield from _queue()
        yield from _webhooks()


def _runs():
    from runner.models import Run
    from runner.states import FINISHED_RUN

    started = CounterMetricFamily(
        "brickwork_runs_started", "Runs created, by workflow", labels=["workflow"]
    )
    ended = CounterMetricFamily(
        "brickwork_runs_ended", "Runs ended, by workflow and status", labels=["workflow", "status"]
    )
    active = GaugeMetricFamily(
        "brickwork_runs_active", "Runs not ended yet, by status", labels=["status"]
    )
    rows = Run.objects.values("workflow__slug", "action__name", "status").annotate(n=Count("id"))
    by_workflow = {}
    for row in rows:
        name = row["workflow__slug"] or row["action__name"] or ""
        by_workflow[name] = by_workflow.get(name, 0) + row["n"]
        if row["status"] in FINISHED_RUN:
            ended.add_metric([name, row["status"]], row["n"])
        else:
            active.add_metric([row["status"]], row["n"])
    for name, count in by_workflow.items():
        started.add_metric([name], count)
    yield from (started, ended, active)


def _attempts():
    from runner.models import Attempt
    from runner.states import AttemptStatus

    action = F("step_run__action_version__action__name")
    outcomes = CounterMetricFamily(
        "brickwork_attempts",
        "Step attempts, by action and outcome (scheduled/running are still open)",
        labels=["action", "outcome"],
    )
    for row in Attempt.objects.values("status", name=action).annotate(n=Count("id")):
        outcomes.add_metric([row["name"], row["status"]], row["n"])
    yield outcomes

    retries = CounterMetricFamily(
        "brickwork_retries", "Attempts after the first, by action", labels=["action"]
    )
    for row in Attempt.objects.filter(number__gt=1).values(name=action).annotate(n=Count("id")):
        retries.add_metric([row["name"]], row["n"])
    yield retries

    histogram = HistogramMetricFamily(
        "brickwork_attempt_duration_seconds",
        "Duration of ended attempts, by action",
        labels=["action"],
    )
    ended = Attempt.objects.filter(
        status__in=[AttemptStatus.SUCCEEDED, AttemptStatus.FAILED], duration_ms__isnull=False
    )
    aggregates = {
        f"le_{index}": Count("id", filter=Q(duration_ms__lte=bound * 1000))
        for index, bound in enumerate(BUCKETS)
    }
    rows = ended.values(name=action).annotate(
        total=Count("id"), total_ms=Sum("duration_ms"), **aggregates
    )
    for row in rows:
        buckets = [(str(bound), row[f"le_{i}"]) for i, bound in enumerate(BUCKETS)]
        buckets.append(("+Inf", row["total"]))
        histogram.add_metric([row["name"]], buckets, (row["total_ms"] or 0) / 1000)
    yield histogram


def _steps():
    from runner.models import StepRun
    from runner.states import StepKind

    compensations = CounterMetricFamily(
        "brickwork_compensations", "Compensation steps, by status", labels=["status"]
    )
    rows = StepRun.objects.filter(kind=StepKind.COMPENSATION).values("status")
    for row in rows.annotate(n=Count("id")):
        compensations.add_metric([row["status"]], row["n"])
    yield compensations


def _workers():
    from core.models import WorkerHeartbeat

    now = timezone.now()
    live = GaugeMetricFamily(
        "brickwork_workers_live", "Worker processes that beat within WORKER_DEAD_AFTER_S"
    )
    age = GaugeMetricFamily(
        "brickwork_worker_heartbeat_age_seconds",
        "Seconds since each known worker's last heartbeat",
        labels=["worker"],
    )
    since = now - timedelta(seconds=settings.WORKER_DEAD_AFTER_S)
    count = 0
    for worker, seen in WorkerHeartbeat.objects.values_list("worker", "last_seen_at"):
        age.add_metric([worker], (now - seen).total_seconds())
        count += seen >= since
    live.add_metric([], count)
    yield from (live, age)


def _queue():
    from runner.models import Attempt
    from runner.states import AttemptStatus

    waiting = GaugeMetricFamily(
        "brickwork_attempts_scheduled",
        "Attempts waiting for a worker (due now or delayed for a retry)",
        labels=["due"],
    )
    now = timezone.now()
    scheduled = Attempt.objects.filter(status=AttemptStatus.SCHEDULED)
    counts = scheduled.aggregate(
        now=Count("id", filter=Q(scheduled_for__lte=now)),
        later=Count("id", filter=Q(scheduled_for__gt=now)),
    )
    for due, value in counts.items():
        waiting.add_metric([due], value)
    yield waiting

    from core import counters
    from runner.sweeper import RESENT_COUNTER

    yield CounterMetricFamily(
        "brickwork_sweeper_resent",
        "Messages of scheduled attempts the sweeper sent again, presumed lost (since Redis started)",
        value=counters.read(RESENT_COUNTER),
    )

    depth = GaugeMetricFamily(
        "brickwork_broker_queue_depth", "Messages in the broker's queues", labels=["queue"]
    )
    try:
        from runner.tasks import queue_depths

        for queue, count in queue_depths().items():
            depth.add_metric([queue], count)
    except Exception:  # the broker is down: the other families still answer
        pass
    yield depth


def _webhooks():
    from builder.models import WebhookDelivery

    deliveries = CounterMetricFamily(
        "brickwork_webhook_deliveries", "Webhook requests, by verdict", labels=["verdict"]
    )
    for row in WebhookDelivery.objects.values("verdict").annotate(n=Count("id")):
        deliveries.add_metric([row["verdict"]], row["n"])
    yield deliveries


registry = CollectorRegistry(auto_describe=False)
registry.register(BrickworkCollector())


def allowed(request):
    """The METRICS_TOKEN as a bearer token, or a staff user; anyone with METRICS_PUBLIC.

    Not "anyone on loopback": behind a reverse proxy on the same host every client
    arrives from 127.0.0.1.
    """
    if settings.METRICS_PUBLIC:
        return True
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].encode(), token.encode())
    return request.user.is_authenticated and request.user.is_staff


@never_cache
@require_GET
def metrics(request):
    if not allowed(request):
        response = HttpResponse("metrics: a bearer token or a staff login is needed\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        response["Content-Type"] = "text/plain"
        return response
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
