"""`GET /metrics` in Prometheus format, computed at scrape time from PostgreSQL and Redis.

Counters kept in a worker's memory would never reach the web process that is scraped, and
would reset with every worker; the database already holds every run, attempt and delivery.
A scrape reads totals folded as history settles plus what happened since
(runner/metrics_totals.py), never all history. Queue depth comes from the broker (Redis
or RabbitMQ).
"""

import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
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

from runner import metrics_totals
from runner.metrics_totals import BUCKETS


class BrickworkCollector:
    def collect(self):
        found = metrics_totals.figures(timezone.now())
        yield from _runs(found)
        yield from _attempts(found)
        yield _family(
            CounterMetricFamily(
                "brickwork_compensations", "Compensation steps, by status", labels=["status"]
            ),
            found["compensations"],
        )
        yield from _workers()
        yield from _queue()
        yield _family(
            CounterMetricFamily(
                "brickwork_webhook_deliveries", "Webhook requests, by verdict", labels=["verdict"]
            ),
            found["deliveries"],
        )


def _family(family, values):
    for labels, value in sorted(values.items()):
        family.add_metric(list(labels), value)
    return family


def _runs(found):
    yield _family(
        CounterMetricFamily(
            "brickwork_runs_started", "Runs created, by workflow", labels=["workflow"]
        ),
        found["runs_started"],
    )
    yield _family(
        CounterMetricFamily(
            "brickwork_runs_ended",
            "Runs ended, by workflow and status",
            labels=["workflow", "status"],
        ),
        found["runs_ended"],
    )
    yield _family(
        GaugeMetricFamily(
            "brickwork_runs_active", "Runs not ended yet, by status", labels=["status"]
        ),
        found["runs_active"],
    )


def _attempts(found):
    yield _family(
        CounterMetricFamily(
            "brickwork_attempts",
            "Step attempts, by action and outcome (scheduled/running are still open)",
            labels=["action", "outcome"],
        ),
        found["attempts"],
    )
    yield _family(
        CounterMetricFamily(
            "brickwork_retries", "Attempts after the first, by action", labels=["action"]
        ),
        found["retries"],
    )
    histogram = HistogramMetricFamily(
        "brickwork_attempt_duration_seconds",
        "Duration of ended attempts, by action",
        labels=["action"],
    )
    durations = found["duration"]
    for action in sorted({labels[0] for labels in durations}):
        buckets = [(str(bound), durations[(action, str(i))]) for i, bound in enumerate(BUCKETS)]
        buckets.append(("+Inf", durations[(action, "count")]))
        histogram.add_metric([action], buckets, durations[(action, "sum_ms")] / 1000)
    yield histogram


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
