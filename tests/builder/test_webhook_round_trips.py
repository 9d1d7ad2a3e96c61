"""What one accepted webhook delivery costs the database, pinned so that it cannot grow
unseen. Counts, not timings: `manage.py bench` times it (docs/BENCHMARKS.md).
"""

import tempfile
from contextlib import contextmanager

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from psycopg import _queries, pq

from builder.definition import validate
from builder.models import Workflow
from runner.models import Run
from tests.builder.test_webhooks import DEFINITION, make_trigger, post
from tests.runs import wait_for

STATEMENTS_PER_DELIVERY = {
    # The run's and its step's ids (nextval), then the run, its step, the first attempt,
    # the events and the delivery, one statement with no transaction around it.
    "postgresql": 2,
    # BEGIN IMMEDIATE, the run, its step, the step's start, the attempt, the events, the
    # delivery one by one (fastsql.Writes), COMMIT: in-process calls, not round trips.
    "sqlite": 10,
}


@pytest.fixture(autouse=True)
def runs_end(worker):
    """The runs these deliveries start end before the test does: the suite's worker, alive
    since an earlier test, would otherwise run them while the test's tables are flushed
    (a deadlock, or an attempt inserted for a run already gone)."""
    yield
    for run in Run.objects.all():
        wait_for(run)


@pytest.fixture
def workflow(workspace):
    workflow = Workflow.objects.create(workspace=workspace, slug="signup", name="On signup")
    workflow.publish(validate(DEFINITION, workspace))
    return workflow


@contextmanager
def round_trips():
    """The PostgreSQL round trips made meanwhile, read from libpq's protocol trace: every
    query, BEGIN, COMMIT and health check included, which Django's query log leaves out."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    counted = []
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield counted
        finally:
            pgconn.untrace()
            trace.seek(0)
            lines = trace.read().decode("utf-8", "replace").splitlines()
    counted.extend(line for line in lines if "\tReadyForQuery" in line)


def post_as_served(client, trigger):
    """`post` with the connection check every served request starts with (the test client
    leaves Django's request_started handler out): the health check runs at its first query."""
    connection.close_if_unusable_or_obsolete()
    return post(client, trigger)


@pytest.mark.django_db(transaction=True)
def test_an_accepted_delivery_costs_a_fixed_number_of_statements(client, workflow):
    # Given a trigger whose first delivery warmed this process's caches
    trigger = make_trigger(workflow)
    assert post(client, trigger).status_code == 202
    in_transaction = []

    def note_transaction(execute, sql, params, many, context):
        in_transaction.append(not connection.get_autocommit())
        return execute(sql, params, many, context)

    # When another delivery is accepted
    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(note_transaction):
        response = post(client, trigger)
    # Then it took the pinned number of statements, and started its run and recorded itself
    assert response.status_code == 202
    assert len(queries) == STATEMENTS_PER_DELIVERY[connection.vendor], [
        q["sql"][:80] for q in queries
    ]
    run = Run.objects.get(id=response.json()["run"])
    assert run.trigger == "webhook" and run.attempts.count() == 1
    assert trigger.deliveries.filter(run=run, verdict="accepted", status_code=202).exists()
    if connection.vendor == "postgresql":
        # Outside a transaction: no BEGIN, no COMMIT (the last statement is the whole start)
        assert not any(in_transaction)


@pytest.mark.postgresql_only(reason="counts PostgreSQL protocol messages (libpq's trace)")
@pytest.mark.django_db(transaction=True)
def test_an_accepted_delivery_is_two_round_trips_health_check_included(client, workflow):
    trigger = make_trigger(workflow)
    assert post(client, trigger).status_code == 202
    # When a delivery arrives on the reused connection, which Django checks first
    with round_trips() as counted:
        response = post_as_served(client, trigger)
    # Then the check sent nothing, and the delivery made its two statements' round trips
    assert response.status_code == 202
    assert len(counted) == 2


@pytest.mark.postgresql_only(reason="ends a PostgreSQL session with pg_terminate_backend")
@pytest.mark.django_db(transaction=True)
def test_a_delivery_after_the_server_ended_the_session_reconnects(client, workflow):
    # Given a reused connection whose session the server ends (a restart, an admin)
    trigger = make_trigger(workflow)
    assert post(client, trigger).status_code == 202
    pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])  # waits for its end
    other.close()
    # When the next delivery arrives, then the health check sees it and a new session answers
    response = post_as_served(client, trigger)
    assert response.status_code == 202
    assert connection.connection.info.backend_pid != pid
    assert Run.objects.filter(id=response.json()["run"]).exists()


@pytest.mark.postgresql_only(reason="the health check of PostgreSQL connections (core/postgresql)")
@pytest.mark.django_db(transaction=True)
def test_the_health_check_of_an_idle_connection_makes_no_round_trip():
    connection.ensure_connection()
    with round_trips() as counted:
        assert connection.is_usable()
    assert counted == []


@pytest.mark.postgresql_only(reason="psycopg's conversion cache (core/postgresql)")
@pytest.mark.django_db(transaction=True)
def test_an_accepted_delivery_s_statements_are_parsed_once_per_process(client, workflow):
    # Given a process that has taken one delivery (its statements' texts seen once)
    trigger = make_trigger(workflow)
    assert post(client, trigger).status_code == 202
    before = conversions()
    # When another delivery is accepted
    with CaptureQueriesContext(connection) as queries:
        assert post(client, trigger).status_code == 202
    # Then every one of its statements came from psycopg's cache, the run's one statement
    # too, although it is over psycopg's own 4 KiB limit (the backend raises it)
    after = conversions()
    assert after - before >= len(queries) == 2
    assert max(len(q["sql"].encode()) for q in queries) > 4096


def conversions():
    """Statements psycopg found in its caches of converted texts: server-side binding
    (DATABASE_PREPARED) uses one, client-side binding the other."""
    caches = (_queries._query2pg, _queries._query2pg_client)
    return sum(cache.cache_info().hits for cache in caches)
