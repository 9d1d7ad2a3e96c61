"""Database statements and round trips per step: a constant, whatever the length of the
workflow.

Counts, not timings: `manage.py bench` prints the timings (docs/BENCHMARKS.md).
"""

import tempfile

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runner import executor, launch
from runner.models import Attempt
from tests.runs import start

QUERIES_PER_STEP = {
    # BEGIN, lock the run and finish the attempt (one statement), read the steps, every
    # write (one statement), COMMIT.
    "postgresql": 5,
    # The same, with the lock and the update apart and each write its own statement
    # (fastsql.Writes): in-process calls, not round trips.
    "sqlite": 13,
}


# Messages that make PostgreSQL answer: a simple query, or the Sync that ends an extended
# query (or a pipeline's batch of them).
ROUND_TRIPS_PER_STEP = 4  # BEGIN; lock, finish and read the steps (pipelined); writes; COMMIT


def queries_to_run(workspace, length):
    run = start(
        workspace,
        [{"key": f"s{n}", "action": "debug.echo", "input": {"n": n}} for n in range(length)],
    )
    first = Attempt.objects.get(run=run)
    with CaptureQueriesContext(connection) as queries:
        executor.execute_attempt(
            first.id, "test-worker", send=launch.send
        )  # the rest run eagerly, inline
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert run.attempts.filter(status="succeeded").count() == length
    return len(queries.captured_queries)


@pytest.mark.django_db
def test_each_further_step_costs_the_same_few_queries(workspace, settings):
    # One transaction per step (pure steps in a row share one: tests/runner/test_inline_steps.py)
    settings.INLINE_PURE_STEPS = False
    # Given the same echo workflow with 5 and with 20 steps
    queries_to_run(workspace, 2)  # the ActionVersion cache is warm, as in a running worker
    # When a worker runs each from its first message
    short, long = queries_to_run(workspace, 5), queries_to_run(workspace, 20)
    # Then 15 more steps cost 15 times the same constant number of queries
    assert (long - short) % 15 == 0, (short, long)
    assert (long - short) // 15 <= QUERIES_PER_STEP[connection.vendor], (short, long)


def round_trips_to_run(workspace, length, sent=None):
    """Round trips on the wire (libpq's trace of the messages the client sends); `sent`,
    a list, receives the trace's lines."""
    run = start(
        workspace,
        [{"key": f"s{n}", "action": "debug.fib", "input": {"n": 1}} for n in range(length)],
    )
    first = Attempt.objects.get(run=run)
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            executor.execute_attempt(first.id, "test-worker", send=launch.send)
        finally:
            pgconn.untrace()
        trace.seek(0)
        lines = [line for line in trace if line.startswith("F\t")]
    if sent is not None:
        sent.extend(lines)
    assert run.attempts.filter(status="succeeded").count() == length
    messages = [line.split("\t")[2].split()[0] for line in lines]
    return sum(1 for message in messages if message in ("Query", "Sync"))


def warm_up(workspace):
    """Caches warm, as in a running worker: every statement of both lengths has run twice,
    so psycopg has prepared it (DATABASE_PREPARED), which costs a round trip once."""
    for length in (5, 20, 5, 20):
        round_trips_to_run(workspace, length)


@pytest.mark.postgresql_only(reason="counts PostgreSQL's wire protocol messages")
@pytest.mark.django_db
def test_each_further_step_costs_the_same_few_round_trips(workspace):
    # Given a chain of debug.fib (not pure: a transaction per step), caches warm
    warm_up(workspace)
    # When a worker runs one of 5 and one of 20 steps from their first message
    short, long = round_trips_to_run(workspace, 5), round_trips_to_run(workspace, 20)
    # Then each further step costs the same few round trips
    assert (long - short) % 15 == 0, (short, long)
    assert (long - short) // 15 <= ROUND_TRIPS_PER_STEP, (short, long)


# In a transaction of its own, as in a worker: BEGIN goes with the lock (core/postgresql),
# the writes with COMMIT.
ROUND_TRIPS_PER_COMMITTED_STEP = 2


@pytest.mark.postgresql_only(reason="counts PostgreSQL's wire protocol messages")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_messages")  # committed: a live worker would see its messages
def test_each_committed_step_costs_two_round_trips(workspace):
    # Given a chain of debug.fib run outside any test transaction: each step commits
    warm_up(workspace)
    # When a worker runs one of 5 and one of 20 steps from their first message
    short, long = round_trips_to_run(workspace, 5), round_trips_to_run(workspace, 20)
    # Then each further step costs its BEGIN-and-lock and its writes-and-COMMIT
    assert (long - short) % 15 == 0, (short, long)
    assert (long - short) // 15 <= ROUND_TRIPS_PER_COMMITTED_STEP, (short, long)


@pytest.mark.postgresql_only(reason="counts PostgreSQL's wire protocol messages")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_messages")
def test_async_step_commit_costs_no_round_trip(workspace, settings):
    # Given ASYNC_STEP_COMMIT: a step's transitions do not wait for the WAL flush
    settings.ASYNC_STEP_COMMIT = True
    warm_up(workspace)
    # When a worker runs one of 5 and one of 20 steps
    sent = []
    short, long = round_trips_to_run(workspace, 5), round_trips_to_run(workspace, 20, sent)
    # Then each step's commit said so to PostgreSQL, in the round trips it had anyway
    assert sum("synchronous_commit = off" in line for line in sent) >= 20
    assert (long - short) // 15 <= ROUND_TRIPS_PER_COMMITTED_STEP, (short, long)
