"""Fill a PostgreSQL database with a year of realistic history, in minutes.

Each workspace gets three published workflows and one real run of each shape, made by
the engine itself in this process (so every row is one the product writes): an 8-step
order whose third step fails twice before it succeeds (10 attempts), a saga that fails
and is compensated (7 attempts), and a run that fails with nothing to undo (4 attempts).
Those template runs are then cloned with INSERT … SELECT, their steps, attempts and
events with them, in batches, with their times spread over the past year and a
`customer_id` of their own in the input; some are reruns of a failed run, some were
started by a webhook delivery. Columns are read from the database, so a column added
later is cloned too.
"""

import random
import time

from django.db import connection, transaction
from django.utils import timezone

BATCH = 5_000
# Shape: (share of the runs, workflow slug).
SHAPES = ((0.85, "orders"), (0.10, "saga"), (0.05, "charge"))
CUSTOMERS = 5_000


def fill(runs, workspaces, progress):
    """Add about `runs` finished runs across `workspaces` workspaces; returns their slugs."""
    if connection.vendor != "postgresql":
        raise RuntimeError("the scale fill uses PostgreSQL's INSERT … SELECT generate_series")
    slugs = []
    per_workspace = max(1, runs // workspaces)
    began = time.monotonic()
    for number in range(1, workspaces + 1):
        workspace = _workspace(f"scale-{number}")
        slugs.append(workspace.slug)
        templates = {slug: _template_run(workspace, slug) for _, slug in SHAPES}
        for share, slug in SHAPES:
            _clone(templates[slug], round(per_workspace * share))
        _deliveries(workspace, per_workspace // 10)
        progress(
            f"scale: workspace {number}/{workspaces} filled "
            f"({number * per_workspace:,} runs, {time.monotonic() - began:.0f} s)"
        )
    tables = "runner_run, runner_steprun, runner_attempt, runner_runevent, builder_webhookdelivery"
    with connection.cursor() as cursor:
        # As autovacuum would; VACUUM cannot run inside a transaction (a test's), ANALYZE can.
        cursor.execute(("ANALYZE " if connection.in_atomic_block else "VACUUM (ANALYZE) ") + tables)
    return slugs


def counts():
    with connection.cursor() as cursor:
        found = {}
        for table in ("runner_run", "runner_attempt", "runner_runevent"):
            cursor.execute(f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{table}'")
            found[table] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_database_size(current_database())")
        found["bytes"] = cursor.fetchone()[0]
    return found


KEEP_DAYS = 400


def _workspace(slug):
    from django.contrib.auth.models import User

    from core.models import Membership, Role, Workspace

    # A year of history that the workspace keeps: with the default policy (30 days) the
    # sweeper would spend every measured pass deleting the fill instead of sweeping.
    keep = {"keep_runs_days": KEEP_DAYS, "keep_failed_runs_days": KEEP_DAYS}
    workspace, _ = Workspace.objects.update_or_create(slug=slug, defaults={"name": slug, **keep})
    user, _ = User.objects.get_or_create(username=f"{slug}-owner")
    Membership.objects.get_or_create(workspace=workspace, user=user, defaults={"role": Role.OWNER})
    return workspace


DEFINITIONS = {
    "orders": [
        {
            "key": "validate",
            "action": "debug.echo",
            "input": {"customer": "{{ input.customer_id }}"},
        },
        {"key": "reserve", "action": "debug.echo", "input": {"n": 1}},
        {
            "key": "charge",
            "action": "debug.fail",
            "input": {"fail_times": 2},
            "retry": {"max_attempts": 3, "initial_interval_s": 0, "jitter": False},
        },
        *({"key": f"step{n}", "action": "debug.echo", "input": {"n": n}} for n in range(5)),
    ],
    "saga": [
        {"key": "book", "action": "debug.echo", "compensate": {"action": "debug.echo"}},
        {"key": "hold", "action": "debug.echo", "compensate": {"action": "debug.echo"}},
        {
            "key": "pay",
            "action": "debug.fail",
            "input": {"message": "card declined"},
            "retry": {"max_attempts": 3, "initial_interval_s": 0, "jitter": False},
        },
    ],
    "charge": [
        {"key": "prepare", "action": "debug.echo"},
        {
            "key": "call",
            "action": "debug.fail",
            "input": {"message": "upstream 503"},
            "retry": {"max_attempts": 3, "initial_interval_s": 0, "jitter": False},
        },
    ],
}


def _template_run(workspace, slug):
    """One run of the shape, made and finished by the engine in this process."""
    from builder.definition import validate
    from builder.models import Workflow
    from runner import engine, executor
    from runner.models import Attempt

    workflow, _ = Workflow.objects.get_or_create(
        workspace=workspace, slug=slug, defaults={"name": slug.title()}
    )
    version = workflow.latest_version() or workflow.publish(
        validate({"name": slug.title(), "steps": DEFINITIONS[slug]}, workspace), note="scale"
    )
    run = engine.start_run(
        workspace=workspace,
        definition=version.definition,
        input={"customer_id": 1},
        workflow=workflow,
        workflow_version=version,
        send=_no_broker,
    )
    for _ in range(100):  # bounded: each pass runs at least one attempt
        waiting = list(
            Attempt.objects.filter(run=run, status="scheduled").values_list("id", flat=True)
        )
        if not waiting:
            break
        for attempt_id in waiting:
            executor.execute_attempt(attempt_id, "scale-fill", send=_no_broker)
    run.refresh_from_db()
    return run


def _no_broker(dispatches):
    """The fill runs every attempt itself: nothing goes to a broker."""


def _columns(table, skip=("id",)):
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    return [column.name for column in description if column.name not in skip]


def _clone(template, count):
    """`count` copies of a finished run with its steps, attempts and events."""
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        with transaction.atomic(), connection.cursor() as cursor:
            _clone_batch(cursor, template, size)
        done += size


def _clone_batch(cursor, template, size):
    run_cols = _columns("runner_run")
    spread = {
        # Times spread over the past year; a customer of its own.
        "created_at": "t.created_at - g.age",
        "started_at": "t.started_at - g.age",
        "ended_at": "t.ended_at - g.age",
        "input": f"jsonb_build_object('customer_id', (random() * {CUSTOMERS})::int)",
    }
    select = ", ".join(spread.get(col, f"t.{col}") for col in run_cols)
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS scale_new (id bigint PRIMARY KEY) ON COMMIT DROP"
    )
    cursor.execute("TRUNCATE scale_new")
    cursor.execute(
        f"WITH new AS (INSERT INTO runner_run ({', '.join(run_cols)}) "
        f"SELECT {select} FROM runner_run t, "
        "(SELECT n, random() * interval '365 days' AS age FROM generate_series(1, %s) n) g "
        "WHERE t.id = %s RETURNING id) INSERT INTO scale_new SELECT id FROM new",
        [size, template.id],
    )
    step_cols = _columns("runner_steprun")
    cursor.execute(
        f"INSERT INTO runner_steprun ({', '.join(step_cols)}) SELECT "
        + ", ".join("n.id" if col == "run_id" else f"s.{col}" for col in step_cols)
        + " FROM runner_steprun s, scale_new n WHERE s.run_id = %s",
        [template.id],
    )
    cursor.execute(
        "UPDATE runner_steprun c SET compensates_id = a.id FROM runner_steprun a, scale_new n "
        "WHERE c.run_id = n.id AND a.run_id = n.id AND c.kind = 'compensation' "
        "AND a.kind = 'action' AND a.key = c.key"
    )
    attempt_cols = _columns("runner_attempt")
    cursor.execute(
        f"INSERT INTO runner_attempt ({', '.join(attempt_cols)}) SELECT "
        + ", ".join(
            {"run_id": "n.id", "step_run_id": "ns.id"}.get(col, f"a.{col}") for col in attempt_cols
        )
        + " FROM runner_attempt a JOIN runner_steprun ts ON ts.id = a.step_run_id "
        "CROSS JOIN scale_new n JOIN runner_steprun ns ON ns.run_id = n.id "
        "AND ns.key = ts.key AND ns.kind = ts.kind WHERE a.run_id = %s",
        [template.id],
    )
    event_cols = _columns("runner_runevent")
    cursor.execute(
        f"INSERT INTO runner_runevent ({', '.join(event_cols)}) SELECT "
        + ", ".join("n.id" if col == "run_id" else f"e.{col}" for col in event_cols)
        + " FROM runner_runevent e, scale_new n WHERE e.run_id = %s",
        [template.id],
    )
    if template.status != "succeeded":
        # Some failures were rerun (the rerun being one of the other copies), some resolved.
        cursor.execute(
            "UPDATE runner_run r SET resolved_at = r.ended_at, resolution_note = 'scale' "
            "FROM scale_new n WHERE r.id = n.id AND random() < 0.6"
        )
        cursor.execute(
            "UPDATE runner_run r SET rerun_of_id = n.id - 1, rerun_from = 'failed', "
            "trigger = 'rerun' FROM scale_new n WHERE r.id = n.id AND random() < 0.1 "
            "AND EXISTS (SELECT 1 FROM scale_new p WHERE p.id = n.id - 1)"
        )


def _deliveries(workspace, count):
    """Webhook deliveries that started runs of the orders workflow."""
    from builder.models import Trigger, WebhookDelivery
    from runner.models import Run

    trigger = Trigger.objects.filter(workflow__workspace=workspace).first()
    if trigger is None:
        trigger = Trigger(workflow=workspace.workflows.get(slug="orders"), name="orders hook")
        trigger.token = Trigger.new_token()
        trigger.save()
    run = Run.objects.filter(workspace=workspace).order_by("id").first()
    template = WebhookDelivery.objects.create(
        trigger=trigger, size=120, status_code=202, verdict="accepted", run=run
    )
    cols = _columns("builder_webhookdelivery")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO builder_webhookdelivery ({', '.join(cols)}) SELECT "
            + ", ".join(
                {"received_at": "d.received_at - random() * interval '30 days'"}.get(
                    col, f"d.{col}"
                )
                for col in cols
            )
            + " FROM builder_webhookdelivery d, generate_series(1, %s) WHERE d.id = %s",
            [count, template.id],
        )


def random_run_id(workspace):
    from runner.models import Run

    ids = Run.objects.filter(workspace=workspace)
    high = ids.order_by("-id").values_list("id", flat=True).first()
    low = ids.order_by("id").values_list("id", flat=True).first()
    return random.randint(low, high) if high else None


def now():
    return timezone.now()
