"""The engine's one way to write (runner/fastsql.py `Writes`): every update is a
compare-and-set, checked against the tables of allowed status changes."""

import pytest

from runner import fastsql
from runner.models import Attempt, Run
from runner.states import AttemptStatus, RunStatus
from runner.transition import BORN, TRANSITIONS
from tests.runs import start

pytestmark = pytest.mark.django_db

ECHO = [{"key": "a", "action": "debug.echo"}]


def writes():
    return fastsql.Writes(TRANSITIONS, BORN)


def test_a_second_update_must_expect_the_status_the_first_leaves(workspace):
    # Given a queued run, and a first update that moves it to running
    run = start(workspace, ECHO)
    w = writes()
    w.update(Run, run.id, RunStatus.QUEUED, status=RunStatus.RUNNING)
    # When a second update of the same row expects it still queued
    # Then it is refused at once: the first expected status does not win
    with pytest.raises(fastsql.LostUpdate):
        w.update(Run, run.id, RunStatus.QUEUED, status=RunStatus.FAILED)
    # And one that expects what the first leaves is merged and sent as one
    w.update(Run, run.id, RunStatus.RUNNING, status=RunStatus.SUCCEEDED)
    w.send()
    assert Run.objects.get(id=run.id).status == RunStatus.SUCCEEDED


def test_an_update_without_expectation_then_one_with_keeps_the_check(workspace):
    # Given an update that expects nothing (a flag), then one that expects "running"
    run = start(workspace, ECHO)  # queued
    w = writes()
    w.update(Run, run.id, None, needs_review=True)
    w.update(Run, run.id, RunStatus.RUNNING, status=RunStatus.SUCCEEDED)
    # When they are sent, the row is queued, not running
    # Then nothing changes: the merged update still checked the status
    with pytest.raises(fastsql.LostUpdate) as lost:
        w.send()
    assert (Run, run.id) in lost.value.rows
    assert Run.objects.get(id=run.id).status == RunStatus.QUEUED


def test_a_status_change_not_in_the_table_is_refused(workspace):
    run = start(workspace, ECHO)
    attempt = Attempt.objects.get(run=run)
    w = writes()
    with pytest.raises(fastsql.ForbiddenTransition):
        w.update(Attempt, attempt.id, AttemptStatus.SCHEDULED, status=AttemptStatus.SUCCEEDED)
    with pytest.raises(fastsql.ForbiddenTransition):
        w.update(Run, run.id, RunStatus.QUEUED, status=RunStatus.COMPENSATED)


def test_an_update_of_a_row_still_to_insert_is_checked_too(workspace):
    run = start(workspace, ECHO)
    step = run.steps.get()
    w = writes()
    row = {
        "run_id": run.id, "step_run_id": step.id, "number": 2,
        "scheduled_for": run.created_at, "worker": "",
    }  # fmt: skip
    handle = w.insert(Attempt, {**row, "status": AttemptStatus.SCHEDULED}, wants_id=True)
    with pytest.raises(fastsql.LostUpdate):
        w.update(Attempt, handle, AttemptStatus.RUNNING, status=AttemptStatus.SUCCEEDED)
    w.update(Attempt, handle, AttemptStatus.SCHEDULED, status=AttemptStatus.RUNNING)
    w.send()
    assert Attempt.objects.get(id=handle.id).status == AttemptStatus.RUNNING
    with pytest.raises(fastsql.ForbiddenTransition):
        w.insert(Attempt, {**row, "number": 3, "status": AttemptStatus.SUCCEEDED})


# The last writes of a transaction and its COMMIT, in one round trip (PostgreSQL)


@pytest.mark.postgresql_only(reason="COMMIT pipelined with the writes is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_messages")  # committed: a live worker would take the run
def test_a_missed_compare_and_set_sent_with_commit_commits_nothing(workspace):
    from django.db import transaction

    # Given a queued run and its scheduled attempt
    run = start(workspace, ECHO)
    attempt = Attempt.objects.get(run=run)
    # When one transaction's last writes, sent with its COMMIT, move the run to running
    # and expect the attempt running, which it is not
    with pytest.raises(fastsql.LostUpdate) as lost, transaction.atomic():
        w = writes()
        w.update(Run, run.id, RunStatus.QUEUED, status=RunStatus.RUNNING)
        w.update(Attempt, attempt.id, AttemptStatus.RUNNING, status=AttemptStatus.SUCCEEDED)
        w.send(commit=True)
    # Then PostgreSQL refused the statement: the miss names the attempt, and the run's
    # update, in the same statement, was not committed either
    assert (Attempt, attempt.id) in lost.value.rows
    assert Run.objects.get(id=run.id).status == RunStatus.QUEUED
    assert Attempt.objects.get(id=attempt.id).status == AttemptStatus.SCHEDULED


@pytest.mark.postgresql_only(reason="COMMIT pipelined with the writes is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_messages")  # committed: a live worker would take the run
def test_a_statement_after_the_committed_writes_is_in_a_transaction_of_its_own(workspace):
    from django.db import transaction

    # Given writes sent with their COMMIT inside an atomic block
    run = start(workspace, ECHO)
    with pytest.raises(RuntimeError), transaction.atomic():
        w = writes()
        w.update(Run, run.id, RunStatus.QUEUED, status=RunStatus.RUNNING)
        w.send(commit=True)
        # When the block writes once more, then fails
        Run.objects.filter(id=run.id).update(keep=True)
        raise RuntimeError("after the commit")
    # Then the committed writes stay, and the later write was rolled back, not
    # committed on its own
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert run.keep is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_messages")  # committed: a live worker would take the run
def test_writes_sent_with_commit_inside_a_savepoint_wait_for_the_outer_commit(workspace):
    from django.db import transaction

    # Given writes sent "with commit" in a block nested in another
    run = start(workspace, ECHO)
    with pytest.raises(RuntimeError), transaction.atomic():
        with transaction.atomic():
            w = writes()
            w.update(Run, run.id, RunStatus.QUEUED, status=RunStatus.RUNNING)
            w.send(commit=True)
        # When the outer block fails
        raise RuntimeError("outer")
    # Then nothing was committed: only the outermost block may commit
    assert Run.objects.get(id=run.id).status == RunStatus.QUEUED
