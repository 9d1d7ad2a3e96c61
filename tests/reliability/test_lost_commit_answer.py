"""A connection that drops after COMMIT but before its answer orphans nothing.

Found while building the soak: the step claimed eagerly in a transaction that committed
without the worker hearing so stayed `running` for a live worker, until its deadline failed
it (and the run, for a one-attempt step).
"""

import pytest
from django.db import connection

from runner import engine, executor, launch
from runner.models import Attempt
from tests.runs import duplicated_transitions, start

# They drive the attempts themselves (tests/conftest.py `no_messages`).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_messages")]

# "b" is not a pure action, so it is claimed for the worker rather than run inline.
SUCCEEDS = {"action": "debug.fail", "input": {"fail_times": 0}}
TWO_STEPS = [{"key": "a", "action": "debug.echo"}, {"key": "b", **SUCCEEDS}]


def drop_after_next_commit(monkeypatch):
    """The next COMMIT happens in the database, then the client hears a dropped connection."""
    connection.ensure_connection()
    raw = connection.connection

    def commit_then_drop():
        raw.commit()
        monkeypatch.undo()
        connection_dropped()

    # Django's commit, not the driver's: sqlite3 connections do not take new attributes.
    monkeypatch.setattr(connection, "_commit", commit_then_drop)


def connection_dropped():
    """The driver's error for a lost connection, as Django hands it on (OperationalError)."""
    with connection.wrap_database_errors:
        raise connection.Database.OperationalError("server closed the connection unexpectedly")


def test_the_eagerly_claimed_step_still_runs_when_the_commit_answer_is_lost(workspace, monkeypatch):
    # Given a two-step run whose first attempt a worker has claimed
    run = start(workspace, TWO_STEPS)
    claimed = engine.claim_attempt(Attempt.objects.get(run=run).id, "worker-1", send=launch.send)
    # When recording its success commits but the answer is lost, and the worker retries
    drop_after_next_commit(monkeypatch)
    following = executor.run_claimed(claimed, "worker-1", eager=True, send=launch.send)
    # Then the retry hands back the step the committed transaction claimed for this worker
    assert following is not None and following.step_key == "b"
    assert executor.run_claimed(following, "worker-1", eager=True, send=launch.send) is None
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert [a.status for a in run.attempts.order_by("id")] == ["succeeded", "succeeded"]
    assert duplicated_transitions(run) == []


def test_a_retry_after_a_commit_that_never_happened_claims_normally(workspace, monkeypatch):
    # Given a claimed first attempt, and a connection that drops before COMMIT this time
    run = start(workspace, TWO_STEPS)
    claimed = engine.claim_attempt(Attempt.objects.get(run=run).id, "worker-1", send=launch.send)
    connection.ensure_connection()
    raw = connection.connection

    def drop_instead_of_commit():
        monkeypatch.undo()
        raw.rollback()
        connection_dropped()

    monkeypatch.setattr(connection, "_commit", drop_instead_of_commit)
    # When the worker reports, the first try is lost and the retry records it
    following = executor.run_claimed(claimed, "worker-1", eager=True, send=launch.send)
    # Then the step after it was claimed once, by the retry
    assert following is not None and following.step_key == "b"
    executor.run_claimed(following, "worker-1", eager=True, send=launch.send)
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert duplicated_transitions(run) == []


def test_after_steps_run_inline_the_retry_finds_the_step_claimed_behind_them(
    workspace, monkeypatch
):
    # Given a run whose pure steps "b" and "c" will run inline after "a", then "d" is claimed
    steps = [{"key": k, "action": "debug.echo"} for k in "abc"] + [{"key": "d", **SUCCEEDS}]
    run = start(workspace, steps)
    claimed = engine.claim_attempt(Attempt.objects.get(run=run).id, "worker-1", send=launch.send)
    # When the commit of that one transaction is not heard, and the worker retries
    drop_after_next_commit(monkeypatch)
    following = executor.run_claimed(claimed, "worker-1", eager=True, send=launch.send)
    # Then the retry follows the inline steps to the claim, and runs it once
    assert following is not None and following.step_key == "d"
    executor.run_claimed(following, "worker-1", eager=True, send=launch.send)
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert [a.status for a in run.attempts.order_by("id")] == ["succeeded"] * 4
    assert duplicated_transitions(run) == []
