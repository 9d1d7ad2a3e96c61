"""Shared fixtures: PostgreSQL and Redis for real, a real Dramatiq worker process, a real
SMTP server and a real HTTP server on loopback. Nothing of our own core is mocked.

The suite runs against DATABASE_URL (default: the local PostgreSQL `test` database, which
pytest-django turns into `test_test`), or SQLite with TEST_DATABASE=sqlite (tests/settings.py),
and Redis database 15 of TEST_REDIS_URL; with TEST_BROKER=rabbitmq, RabbitMQ is the broker.
"""

from pathlib import Path

import pytest

# The personas (alice owns `workspace`, bob views it, charlie owns `other_workspace`, erin
# edits `workspace`), for every test.
from tests.personas import alice, bob, charlie, erin  # noqa: F401
from tests.servers import (
    HttpServer,
    SmtpServer,
    WorkerProcess,
    test_database_url,
)


def pytest_collection_modifyitems(config, items):
    """Skip `postgresql_only` tests on another database (TEST_DATABASE), saying why; with
    TEST_BROKER=rabbitmq, leave out what only a Redis broker can show."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        for item in items:
            if marker := item.get_closest_marker("postgresql_only"):
                reason = f"PostgreSQL only: {marker.kwargs['reason']}"
                item.add_marker(pytest.mark.skip(reason=reason))
    if settings.BROKER_URL.startswith(("redis", "unix")):
        return
    redis_only = [item for item in items if item.get_closest_marker("redis_broker")]
    if redis_only:
        config.hook.pytest_deselected(items=redis_only)
        items[:] = [item for item in items if item not in redis_only]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A SQLite test database file starts without an earlier, killed run's write-ahead log,
    which SQLite would otherwise replay into the new file."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        for suffix in ("-wal", "-shm"):
            Path(database["TEST"]["NAME"] + suffix).unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _builtin_actions(request):
    """Transactional tests truncate every table: put the built-in actions back first."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("_django_db_helper")
    from core.actions.registry import sync_actions
    from runner import action_limits
    from runner.run_state import forget_cached

    forget_cached()
    action_limits.changed()  # workers forget the limits of the emptied tables too
    sync_actions()


@pytest.fixture(scope="session")
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def http_server():
    server = HttpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _worker_process(django_db_setup, django_db_blocker, smtp_server):
    from core.counters import coordination_redis
    from tests.broker import lose_broker_messages

    coordination_redis().flushdb()
    lose_broker_messages()
    worker = WorkerProcess(
        database_url=test_database_url(), email_url=f"smtp://127.0.0.1:{smtp_server.port}"
    )
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def worker(_worker_process, transactional_db):
    """A live `dramatiq` worker process; tests using it see committed data only."""
    if not _worker_process.alive():
        _worker_process.start()
    _worker_process.wait_ready()
    yield _worker_process


@pytest.fixture
def no_messages():
    """For a test that drives the attempts itself: nothing the engine schedules is sent,
    so a worker left running by an earlier test cannot take an attempt first."""
    from runner import launch

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(launch, "send", lambda dispatches: None)
        yield


@pytest.fixture
def workspace(db):
    from core.models import Workspace

    return Workspace.objects.create(name="Acme", slug="acme")


@pytest.fixture
def other_workspace(db):
    from core.models import Workspace

    return Workspace.objects.create(name="Globex", slug="globex")
