"""Test settings: the project's settings, with test defaults for the environment.

The suite runs against PostgreSQL (DATABASE_URL, default the local `test` database, which
pytest-django turns into `test_test`) and Redis database 15 (TEST_REDIS_URL).

TEST_DATABASE=sqlite runs it against SQLite instead, configured as `make run`'s zero-setup
default (core/settings.py): a file under .run/ (not :memory:), so the Dramatiq worker
process the tests start shares it, in WAL mode with a busy timeout. With
TEST_BROKER=rabbitmq the broker is RabbitMQ (TEST_RABBITMQ_URL) and that Redis only
coordinates, as in a RabbitMQ deployment.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TEST_DATABASE = os.environ.get("TEST_DATABASE", "postgresql")
if TEST_DATABASE == "sqlite":
    _run_dir = Path(__file__).resolve().parent.parent / ".run"
    _run_dir.mkdir(exist_ok=True)
    if not os.environ.get("DATABASE_URL", "").startswith("sqlite:"):  # the worker gets its own
        os.environ["DATABASE_URL"] = f"sqlite:///{_run_dir / 'test.sqlite3'}"
elif TEST_DATABASE != "postgresql":
    raise ImproperlyConfigured(f"TEST_DATABASE={TEST_DATABASE!r}: use postgresql or sqlite")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_BROKER = os.environ.get("TEST_BROKER", "redis")
if TEST_BROKER == "redis":
    os.environ["BROKER_URL"] = os.environ["REDIS_URL"]
elif TEST_BROKER == "rabbitmq":
    os.environ["BROKER_URL"] = os.environ.get(
        "TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"
    )
else:
    raise ImproperlyConfigured(f"TEST_BROKER must be redis or rabbitmq, not {TEST_BROKER!r}")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("SWEEP_INTERVAL_S", "0.5")
os.environ.setdefault("WORKER_DEAD_AFTER_S", "3")
os.environ.setdefault("dramatiq_worker_timeout", "20")
# The loopback test servers (tests/servers.py) are the only destinations the suite needs.
os.environ.setdefault("OUTBOUND_ALLOW", "127.0.0.1")

from core.settings import *  # noqa: E402, F403

if TEST_DATABASE == "sqlite":
    # pytest-django's test database: a file beside the settings' one, never :memory:.
    DATABASES["default"]["TEST"] = {"NAME": str(_run_dir / "test_test.sqlite3")}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
