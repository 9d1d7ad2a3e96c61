"""A backlog of overdue scheduled attempts is re-sent once per backoff, not on every pass
(issue: `_redispatch_lost` used to send thousands of duplicate messages a second)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core import counters
from runner import sweeper
from runner.models import Attempt, StepRun
from runner.tasks import broker_lost_its_messages
from tests.broker import lose_broker_messages
from tests.runs import start

BACKLOG = 10_000


def _backlog(workspace, size):
    """One run whose only step has `size` scheduled attempts, all an hour overdue."""
    run = start(workspace, [{"key": "a", "action": "debug.echo"}])
    step = StepRun.objects.get(run=run)
    Attempt.objects.filter(run=run).delete()
    due = timezone.now() - timedelta(hours=1)
    Attempt.objects.bulk_create(
        [Attempt(run=run, step_run=step, number=n, scheduled_for=due) for n in range(1, size + 1)],
        batch_size=2000,
    )
    return run


def test_a_backlog_of_10000_overdue_attempts_is_resent_once_per_backoff(db, workspace):
    # Given 10,000 scheduled attempts overdue, and a broker that did not lose its messages
    run = _backlog(workspace, BACKLOG)
    broker_lost_its_messages()  # the marker is there from now on
    before = counters.read(sweeper.RESENT_COUNTER)
    now = timezone.now()
    # When the sweeper passes every second for 10 seconds
    sent = [sweeper._redispatch_lost(now + timedelta(seconds=s)) for s in range(10)]
    # Then every attempt was sent again exactly once, a bounded batch per pass
    assert sum(sent) == BACKLOG
    assert max(sent) == sweeper.BATCH * 4
    assert sent[-1] == 0
    attempts = Attempt.objects.filter(run=run)
    assert set(attempts.values_list("resent_count", flat=True)) == {1}
    assert counters.read(sweeper.RESENT_COUNTER) - before == BACKLOG
    # And nothing is sent again before its backoff has passed
    soon = now + timedelta(seconds=settings.LOST_MESSAGE_AFTER_S - 1)
    assert sweeper._redispatch_lost(soon) == 0


def test_resends_back_off_and_a_lost_broker_still_resends_everything(db, workspace):
    run = _backlog(workspace, 3)
    broker_lost_its_messages()
    now = timezone.now()
    # Given each attempt re-sent once
    assert sweeper._redispatch_lost(now) == 3
    # When its first backoff passes, it is sent a second time, and the next wait doubles
    later = now + sweeper.resend_interval(1) + timedelta(seconds=1)
    assert sweeper._redispatch_lost(later) == 3
    attempt = Attempt.objects.filter(run=run).first()
    assert attempt.resent_count == 2
    assert attempt.resend_after == later + sweeper.resend_interval(2)
    assert sweeper.resend_interval(2) == 2 * sweeper.resend_interval(1)
    assert sweeper.resend_interval(30) == sweeper.MAX_RESEND_INTERVAL
    # And when the broker loses its messages, every scheduled attempt goes again at once
    lose_broker_messages()
    assert sweeper._redispatch_lost(later + timedelta(seconds=1)) == 3
