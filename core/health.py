"""`GET /healthz`: database, broker and live workers, for load balancers and `make run`.

A worker counts while its heartbeat is younger than WORKER_DEAD_AFTER_S, the age at which
the sweeper takes it for dead and retries its attempts elsewhere. With RabbitMQ as the
broker, "broker" covers the coordination Redis (`REDIS_URL`) too.
"""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.counters import coordination_redis


@never_cache
@require_GET
def healthz(request):
    status = {"database": "ok", "broker": "ok", "workers": 0}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        from runner.sweeper import live_workers

        status["workers"] = live_workers().count()
    except Exception as error:
        status["database"] = f"error: {error.__class__.__name__}"
    try:
        from runner.tasks import on_rabbitmq, ping_broker

        ping_broker()
        if on_rabbitmq():  # the sweeper's lock and the API's counters live there
            coordination_redis().ping()
    except Exception as error:
        status["broker"] = f"error: {error.__class__.__name__}"
    healthy = status["database"] == "ok" and status["broker"] == "ok" and status["workers"] > 0
    return JsonResponse(status, status=200 if healthy else 503)
