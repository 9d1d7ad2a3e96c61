"""The 30 s soak: workers SIGKILLed, Redis restarted empty, PostgreSQL sessions dropped;
nothing lost."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from tests import servers

# The soak restarts a private Redis as its broker whatever the suite's broker is: on
# RabbitMQ it would only repeat itself (the shared RabbitMQ is not ours to restart).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis_broker]


def test_short_soak_loses_nothing():
    # Given a private Redis, 3 worker processes and a stream of mixed runs (`manage.py soak`)
    env = {
        **os.environ,
        "DATABASE_URL": servers.test_database_url(),
        "DJANGO_SETTINGS_MODULE": "core.settings",
        "LOG_LEVEL": "WARNING",
    }
    # When it injects faults for 30 s and waits for every run to end
    finished = subprocess.run(
        [sys.executable, "manage.py", "soak", "--duration", "30", "--settle", "90", "--json"],
        cwd=servers.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    connection.close()  # the soak terminated this session too; reconnect for the teardown
    assert finished.returncode == 0, finished.stderr[-3000:]
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    # Then every fault happened, and no run was lost, stuck or recorded twice
    assert result["faults"]["workers_killed"] >= 4
    assert result["faults"]["redis_restarts"] == 1
    if connection.vendor == "postgresql":  # SQLite is in-process: no sessions to drop
        assert result["faults"]["db_sessions_terminated"] >= 1
    assert result["submitted"] >= 50
    assert result["lost"] == 0, result
    assert result["stuck"] == 0, result
    assert result["duplicated_transitions"] == 0, result
    assert result["unexpected_outcomes"] == {}, result
