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


@pytest.mark.parametrize(
    "name,value",
    [("DEBUG", "maybe"), ("DATABASE_URL", "nosuch://x"), ("BROKER_URL", "http://x"),
     ("LOG_FORMAT", "xml"), ("SECRETS_KEYS", "too-short"),
     ("EMAIL_CONSOLE_BODIES", "sometimes")],
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
