"""A GIN index on Run.input (jsonb_path_ops) for the runs search on PostgreSQL.

`input @> '{"customer_id": 42}'` (runner/run_search.py) is answered from it on any number
of runs. jsonb_path_ops indexes containment only, and is smaller and faster at it than the
default operator class. SQLite has no such index: it compares extracted values instead.
"""

from django.db import migrations

from core.postgresql.migration_ops import PostgreSQLOnly

CREATE = "CREATE INDEX IF NOT EXISTS run_input_path ON runner_run USING gin (input jsonb_path_ops)"
DROP = "DROP INDEX IF EXISTS run_input_path"


class Migration(migrations.Migration):
    dependencies = [
        ("runner", "0015_child_runs"),
    ]

    operations = [PostgreSQLOnly([CREATE], [DROP])]
