import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_database_broker_and_workers(client, worker):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["database"] == "ok" and body["broker"] == "ok" and body["workers"] >= 1


@pytest.mark.django_db
def test_healthz_is_503_without_workers(client):
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["workers"] == 0


@pytest.mark.django_db
def test_healthz_stops_counting_a_worker_once_its_heartbeat_is_too_old(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    from core.models import WorkerHeartbeat

    # Given one worker that beat just now and one killed WORKER_DEAD_AFTER_S + 1 s ago
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WORKER_DEAD_AFTER_S + 1)
    WorkerHeartbeat.objects.create(worker="live", hostname="h", pid=1, last_seen_at=now)
    WorkerHeartbeat.objects.create(worker="killed", hostname="h", pid=2, last_seen_at=stale)
    # Then only the live one counts
    assert client.get("/healthz").json()["workers"] == 1
    # And with the live one gone too, the answer is 503
    WorkerHeartbeat.objects.filter(worker="live").update(last_seen_at=stale)
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json()["workers"] == 0


@pytest.mark.parametrize(
    "name,value",
    [("DEBUG", "maybe"), ("DATABASE_URL", "nosuch://x"), ("BROKER_URL", "http://x"),
     ("LOG_FORMAT", "xml"), ("OUTBOUND_ALLOW", "10.0.0.0/33"), ("OUTBOUND_DENY", "a b:1"),
     ("SECRETS_KEYS", "too-short"), ("EMAIL_CONSOLE_BODIES", "sometimes")],
)  # fmt: skip
def test_a_bad_setting_stops_start_up_loudly(name, value):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "core.settings", name: value}
    env.pop("REDIS_URL", None) if name == "BROKER_URL" else None
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and name in done.stderr
