"""`manage.py bench` runs end to end: every part measures something on a tiny size.

The bench is not part of the product, so nothing else would notice it breaking (it had:
two parts called the engine with an old signature). Figures are not checked, only that
each part produced one; wall-clock limits belong to `manage.py bench` itself.
"""

import json

import pytest
from django.core.management import call_command

from tests import servers

# What each part of the bench must report (the keys its JSON line carries).
FIGURES = {
    "dramatiq": ["dramatiq_steps_per_s", "dramatiq_idle_2_ms"],
    "brickwork_per_step": [
        "brickwork_per_step_steps_per_s",
        "brickwork_per_step_idle_2_ms",
        "per_step_overhead_p50_ms",
        "start_latency_p50_ms",
    ],
    "brickwork_async_commit": [
        "brickwork_async_commit_steps_per_s",
        "brickwork_async_commit_idle_2_ms",
        "async_commit_overhead_p50_ms",
    ],
    "brickwork": ["brickwork_steps_per_s", "brickwork_idle_2_ms"],
    "windmill40": ["windmill40_s"],
    "webhook": ["webhook_accepted_per_s", "webhook_lost"],
    "timeline": ["timeline_1000_ms", "timeline_1000_queries", "timeline_10_queries"],
}


@pytest.mark.redis_broker
@pytest.mark.django_db(transaction=True)
def test_every_part_of_the_bench_measures_on_a_tiny_size(monkeypatch, capsys):
    # Given the bench's child processes (workers, gunicorn) on the test database
    monkeypatch.setenv("DATABASE_URL", servers.test_database_url())
    # When every part runs once, as small as its flags allow
    call_command(
        "bench",
        rounds=1,
        runs=2,
        steps=2,
        idle_samples=1,
        latency_runs=2,
        processes=1,
        threads=2,
        webhook_seconds=1,
        webhook_connections=2,
        timeline_attempts=10,
        json=True,
    )
    # Then its last line is the JSON of figures, and every part filled its own
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    missing = [key for keys in FIGURES.values() for key in keys if figures.get(key) is None]
    assert not missing, missing
    assert figures["webhook_lost"] == 0
