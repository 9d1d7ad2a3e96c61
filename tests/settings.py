"""Test settings: the project's settings, with test defaults for the environment.

The suite runs against PostgreSQL (DATABASE_URL, default the local `test` database, which
pytest-django turns into `test_test`) and Redis database 15 (TEST_REDIS_URL). With
TEST_BROKER=rabbitmq the broker is RabbitMQ (TEST_RABBITMQ_URL) and that Redis only
coordinates, as in a RabbitMQ deployment.
"""

import os

from django.core.exceptions import ImproperlyConfigured

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

from core.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
