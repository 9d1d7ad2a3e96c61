"""Pure actions that follow each other run inside one transaction, each attempt recorded."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runner import engine, executor, launch, run_state
from runner.models import Attempt
from tests.runs import attempts_of, duplicated_transitions, start

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_time_budget(monkeypatch):
    """Counts, not timings: a slow machine must not end a group early."""
    monkeypatch.setattr(engine, "INLINE_MAX_S", 60)


def chain(length):
    """debug.echo steps, each passing on a counter from the one before."""
    steps = [{"key": "s0", "action": "debug.echo", "input": {"n": "{{ input.n }}"}}]
    for n in range(1, length):
        steps.append(
            {
                "key": f"s{n}",
                "action": "debug.echo",
                "input": {"n": f"{{{{ steps.s{n - 1}.output.n }}}}"},
            }
        )
    return steps


def run_from_first_message(run):
    first = Attempt.objects.get(run=run)
    with CaptureQueriesContext(connection) as queries:
        executor.execute_attempt(first.id, "test-worker", send=launch.send)
    run.refresh_from_db()
    # Inside the test's own transaction, each of the engine's ends as a RELEASE SAVEPOINT.
    ends = [q for q in queries.captured_queries if q["sql"].startswith("RELEASE SAVEPOINT")]
    return len(queries.captured_queries), len(ends)


def test_a_chain_of_pure_steps_commits_once_and_records_every_attempt(workspace):
    # Given a 6-step chain of debug.echo (a pure action) passing a value along
    run = start(workspace, chain(6), input={"n": 7})
    # When a worker runs it from its first message
    _, commits = run_from_first_message(run)
    # Then the claim and one transaction for all the rest were committed
    assert commits == 2
    assert run.status == "succeeded" and run.output == {"n": 7}
    # And every step has its own succeeded attempt, with its own times, in order
    attempts = list(run.attempts.order_by("step_run__position"))
    assert [a.status for a in attempts] == ["succeeded"] * 6
    assert all(a.started_at <= a.ended_at for a in attempts)
    assert all(a.ended_at <= b.started_at for a, b in zip(attempts, attempts[1:], strict=False))
    assert [a.output for a in attempts] == [{"n": 7}] * 6
    # And the timeline has every transition once, in the order they happened
    types = [e.type for e in run.events.filter(step_key="s3").order_by("id")]
    assert types == [
        "step.running", "attempt.scheduled", "attempt.started", "attempt.succeeded",
        "step.succeeded",
    ]  # fmt: skip
    assert duplicated_transitions(run) == []


@pytest.mark.postgresql_only(
    reason="one statement for all writes is fastsql.Writes on PostgreSQL; SQLite writes "
    "row by row, in-process, where a statement is a function call, not a round trip"
)
def test_the_queries_of_an_inline_chain_do_not_grow_with_its_length(workspace):
    # Given the same chain with 5 and with 20 steps (caches warm, as in a running worker)
    run_from_first_message(start(workspace, chain(2), input={"n": 1}))
    # When each runs from its first message
    short, _ = run_from_first_message(start(workspace, chain(5), input={"n": 1}))
    long, _ = run_from_first_message(start(workspace, chain(20), input={"n": 1}))
    # Then 15 more inline steps cost no more round trips: their writes are one statement
    assert long == short


def test_a_group_stops_at_its_step_limit_and_the_next_one_carries_on(workspace, monkeypatch):
    # Given at most 2 steps per group
    monkeypatch.setattr(engine, "INLINE_MAX_STEPS", 2)
    run = start(workspace, chain(6), input={"n": 3})
    # When a worker runs the 6 steps
    _, commits = run_from_first_message(run)
    # Then: the claim of s0; s0 done with s1, s2 inline; s3 claimed, done with s4, s5 inline
    assert commits == 3
    assert run.status == "succeeded"
    assert run.attempts.filter(status="succeeded").count() == 6


def test_a_pure_step_that_fails_inline_is_run_again_the_usual_way_and_recorded(
    workspace, monkeypatch
):
    # Given debug.fail treated as pure, failing for good after a pure step
    monkeypatch.setattr(engine, "is_pure", lambda v: v.action.name in ("debug.echo", "debug.fail"))
    steps = [
        {"key": "a", "action": "debug.echo"},
        {"key": "b", "action": "debug.fail", "input": {"retryable": False}},
        {"key": "c", "action": "debug.echo"},
    ]
    run = start(workspace, steps)
    # When a worker runs it
    run_from_first_message(run)
    # Then the failure was not recorded inline but by the usual path, once, with its error
    assert run.status == "failed"
    (attempt,) = attempts_of(run, "b")
    assert attempt.status == "failed" and "on purpose" in attempt.error["message"]
    assert attempts_of(run, "c") == []
    assert duplicated_transitions(run) == []


def test_inline_runs_can_be_switched_off(workspace, settings):
    # Given INLINE_PURE_STEPS off
    settings.INLINE_PURE_STEPS = False
    run = start(workspace, chain(4), input={"n": 1})
    # When a worker runs the chain
    _, commits = run_from_first_message(run)
    # Then the claim, and every step its own transaction again
    assert commits == 1 + 4
    assert run.status == "succeeded"


def test_a_transition_reads_only_the_outputs_it_can_use(workspace, settings):
    # Given a run whose steps carry large outputs, and only "c" refers to one ("a")
    settings.INLINE_PURE_STEPS = False
    big = {"blob": "x" * 50_000}
    steps = [
        {"key": "a", "action": "debug.echo", "input": big},
        {"key": "b", "action": "debug.echo", "input": big},
        {"key": "c", "action": "debug.echo", "input": {"from_a": "{{ steps.a.output.blob }}"}},
        {"key": "d", "action": "debug.echo", "input": big},
    ]
    run = start(workspace, steps)
    # When a worker runs it
    first = Attempt.objects.get(run=run)
    with CaptureQueriesContext(connection) as queries:
        executor.execute_attempt(first.id, "test-worker", send=launch.send)
    run.refresh_from_db()
    # Then every step ran with what it referred to, and the run's output is the last step's
    assert run.status == "succeeded" and run.output == big
    assert attempts_of(run, "c")[0].output == {"from_a": "x" * 50_000}
    # And the steps were read with the outputs of "a" and "d" only (c's reference, the end)
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "runner_steprun"' in q["sql"]]
    assert reads and all("CASE WHEN" in sql for sql in reads)
    assert run_state.outputs_needed(run.id) == ("a", "d")
