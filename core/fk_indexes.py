"""Indexes on foreign keys: partial ones for the keys most rows leave empty, and a
migration operation that drops Django's index where another index already leads with the key.

Django indexes every foreign key. On a table written on the hot path (a run, its steps)
each index costs every insert, and every update that changes an indexed column (a status)
writes a new entry into all of them. A partial index `WHERE <key> IS NOT NULL` still
serves the reverse lookups and the deletes' cascades, which always ask for a value, and
costs nothing for the rows that have none.
"""

from django.db import migrations, models


def where_set(*fields):
    """One partial index per (field, index name): over the rows where the field is set."""
    return [
        models.Index(fields=[field], name=name, condition=models.Q(**{f"{field}__isnull": False}))
        for field, name in fields
    ]


def drop_fk_index(alter_field, table, column, index):
    """`alter_field` (the model state's change to db_index=False) with `DROP INDEX index`
    as its only SQL: Django's own alter also drops and re-adds the foreign key, which
    re-validates every row under a lock, and on SQLite copies the whole table."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[alter_field],
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"',
                f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")',
            )
        ],
    )
