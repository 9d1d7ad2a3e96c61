"""Test settings: the project's settings, with test defaults for the environment.

The suite runs against PostgreSQL (DATABASE_URL, default the local `test` database, which
pytest-django turns into `test_test`) and Redis database 15 (TEST_REDIS_URL).
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ["BROKER_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ["REDIS_URL"] = os.environ["BROKER_URL"]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("SWEEP_INTERVAL_S", "0.5")
os.environ.setdefault("WORKER_DEAD_AFTER_S", "3")
os.environ.setdefault("dramatiq_worker_timeout", "20")
# The loopback test servers (tests/servers.py) are the only destinations the suite needs.
os.environ.setdefault("OUTBOUND_ALLOW", "127.0.0.1")

from core.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
