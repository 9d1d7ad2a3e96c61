"""Retry-After and jitter, end to end: a real server on loopback, `http.request` on a real
worker, and the next attempt's time read back from the attempt rows."""

import time
from email.utils import formatdate

import pytest

from tests.runs import attempts_of, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# Without Retry-After the policy would wait 0.05 s: any longer wait is the server's.
QUICK_POLICY = {"max_attempts": 3, "initial_interval_s": 0.05, "jitter": False}


def run_call(workspace, url, retry):
    return start(
        workspace,
        [{"key": "call", "action": "http.request", "input": {"url": url}, "retry": retry}],
    )


def waited(previous, following):
    """Seconds between an attempt's end and the time the next one was scheduled for."""
    return (following.scheduled_for - previous.ended_at).total_seconds()


@pytest.fixture
def server(http_server):
    http_server.clear()
    return http_server


def test_429_with_retry_after_in_seconds_sets_the_next_attempt_time(worker, workspace, server):
    # Given a server that is rate limited for the next 2 s, then answers
    server.respond("/limited", [(429, {"error": "slow down"}, {"Retry-After": "2"}), (200, {}, {})])
    # When a step calls it
    run = wait_for(run_call(workspace, server.url + "/limited", QUICK_POLICY))
    # Then the second attempt was scheduled 2 s after the first, not 0.05 s, and ran then
    assert run.status == "succeeded"
    first, second = attempts_of(run, "call")
    assert first.retry_decision["retry_after"] is True
    assert first.retry_decision["delay_s"] == 2.0
    assert waited(first, second) == pytest.approx(2.0, abs=0.01)
    assert second.started_at >= second.scheduled_for


def test_503_with_retry_after_as_an_http_date_sets_the_next_attempt_time(worker, workspace, server):
    # Given a server down for maintenance until a date 3 s from now (whole seconds)
    until = time.time() + 3
    server.respond(
        "/maintenance",
        [(503, {}, {"Retry-After": formatdate(until, usegmt=True)}), (200, {}, {})],
    )
    # When a step calls it
    run = wait_for(run_call(workspace, server.url + "/maintenance", QUICK_POLICY))
    # Then the next attempt was due at that date, give or take its whole-second precision
    assert run.status == "succeeded"
    first, second = attempts_of(run, "call")
    assert first.retry_decision["retry_after"] is True
    assert 1.0 <= waited(first, second) <= 3.1
    assert second.scheduled_for.timestamp() == pytest.approx(int(until), abs=1.1)
    assert second.started_at >= second.scheduled_for


def test_jitter_spreads_the_delays_within_the_policy_bounds(worker, workspace, server):
    # Given a server that always fails with 500 (no Retry-After)
    server.respond("/down", [(500, {}, {})])
    policy = {
        "max_attempts": 3,
        "initial_interval_s": 0.5,
        "backoff_coefficient": 2,
        "max_interval_s": 60,
        "jitter": True,
    }
    # When five runs each try it three times
    runs = [run_call(workspace, server.url + "/down", policy) for _ in range(5)]
    runs = [wait_for(run) for run in runs]
    # Then every wait is within ±20 % of the nominal backoff (0.5 s, then 1 s) ...
    first_waits, second_waits = [], []
    for run in runs:
        assert run.status == "failed"
        one, two, three = attempts_of(run, "call")
        first_waits.append(waited(one, two))
        second_waits.append(waited(two, three))
        assert one.retry_decision["retry_after"] is False
    assert all(0.4 - 0.001 <= delay <= 0.6 + 0.001 for delay in first_waits), first_waits
    assert all(0.8 - 0.001 <= delay <= 1.2 + 0.001 for delay in second_waits), second_waits
    # ... and the runs did not all wait the same: the jitter is visible
    assert len({round(delay, 3) for delay in first_waits + second_waits}) > 2
