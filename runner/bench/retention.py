"""What retention costs the engine: step throughput with and without the sweeper pruning.

A workspace of its own is filled with old, finished runs (ATTEMPTS_PER_RUN attempts each,
over STEPS_PER_RUN steps, with their events), written by the database itself: INSERT …
SELECT over generate_series on PostgreSQL, one statement per table, so a million
attempts take seconds. Its policy keeps them (3650 days) for the baseline rounds, then
lets them go (30 days) for the pruning rounds, during which the workers' own sweepers
delete them as they would in production, while the bench's runs flow.
"""

import time

from django.db import connection, transaction

WORKSPACE_SLUG = "bench-retention"
STEPS_PER_RUN = 2
ATTEMPTS_PER_STEP = 5
ATTEMPTS_PER_RUN = STEPS_PER_RUN * ATTEMPTS_PER_STEP


def workspace():
    from core.models import Workspace

    found, _ = Workspace.objects.get_or_create(
        slug=WORKSPACE_SLUG, defaults={"name": "Benchmark (retention)"}
    )
    return found


def fill(target, attempts):
    """Old finished runs in `target` until it holds about `attempts` attempts; seconds taken."""
    from core.models import ActionVersion

    have = stored_attempts(target)
    runs = max(0, (attempts - have) // ATTEMPTS_PER_RUN)
    if not runs:
        return 0.0
    if connection.vendor != "postgresql":
        raise SystemExit("the retention bench fills its history with PostgreSQL's generate_series")
    version = ActionVersion.objects.get(action__name="debug.echo", action__workspace=None)
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM runner_run")
        (first,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO runner_run (definition, action_versions, status, ending, input, trigger,
                rerun_from, needs_review, keep, resolution_note, created_at, started_at,
                ended_at, workspace_id, output)
            SELECT '{"name": "old", "steps": []}', '{}', 'succeeded', '', '{"n": 1}',
                'api', '', false, false, '', t, t, t + interval '1 second', %s, '{"ok": true}'
            FROM (SELECT now() - interval '60 days' + g * interval '1 millisecond' AS t
                  FROM generate_series(1, %s) g) times
            """,
            [target.id, runs],
        )
        cursor.execute(
            """
            INSERT INTO runner_steprun (run_id, key, kind, position, status, attempt_count,
                action_version_id, input, output, started_at, ended_at)
            SELECT r.id, 's' || p, 'action', p, 'succeeded', %s, %s, '{"n": 1}', '{"n": 1}',
                r.started_at, r.ended_at
            FROM runner_run r CROSS JOIN generate_series(1, %s) p
            WHERE r.workspace_id = %s AND r.id > %s
            """,
            [ATTEMPTS_PER_STEP, version.id, STEPS_PER_RUN, target.id, first],
        )
        cursor.execute(
            """
            INSERT INTO runner_attempt (run_id, step_run_id, number, status, scheduled_for,
                started_at, ended_at, duration_ms, output, error, worker)
            SELECT s.run_id, s.id, n, CASE WHEN n = %s THEN 'succeeded' ELSE 'failed' END,
                s.started_at, s.started_at, s.ended_at, 1.5,
                CASE WHEN n = %s THEN '{"n": 1}'::jsonb END,
                CASE WHEN n < %s THEN '{"type": "Flaky", "message": "try again"}'::jsonb END,
                'bench'
            FROM runner_steprun s CROSS JOIN generate_series(1, %s) n
            WHERE s.run_id > %s AND s.run_id IN (
                SELECT id FROM runner_run WHERE workspace_id = %s AND id > %s)
            """,
            [ATTEMPTS_PER_STEP] * 4 + [first, target.id, first],
        )
        cursor.execute(
            """
            INSERT INTO runner_runevent (run_id, type, step_key, step_kind, from_status,
                to_status, message, created_at)
            SELECT r.id, e.type, '', '', '', e.status, '', r.ended_at
            FROM runner_run r CROSS JOIN (VALUES ('run.created', 'queued'),
                ('run.succeeded', 'succeeded')) AS e(type, status)
            WHERE r.workspace_id = %s AND r.id > %s
            """,
            [target.id, first],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) runner_run, runner_steprun, runner_attempt")
    return time.monotonic() - started


def stored_attempts(target):
    """Counted by runs (an index range): counting a million attempts after every round
    would itself slow the rounds it measures."""
    from runner.models import Run

    return Run.objects.filter(workspace=target).count() * ATTEMPTS_PER_RUN


def keep_everything(target):
    from runner import pruning

    pruning.set_policy(target, pruning.MAX_DAYS, pruning.MAX_DAYS)


def let_go(target):
    from runner import pruning

    pruning.set_policy(target, 30, 90)
