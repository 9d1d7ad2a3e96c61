"""The engine's hottest statements, written out.

Building a statement through the ORM costs several times the CPU of the statement itself
(docs/BENCHMARKS.md), and a step runs a handful of them. These helpers write the same
SQL by hand, adapting values with the fields' own `get_db_prep_value`, so they work on
PostgreSQL and SQLite alike.
"""

import functools

from django.db import connection


def update_if(model, pk, expected, /, **fields):
    """`UPDATE ... SET fields WHERE id = pk AND status = expected`; the rows changed (0 or 1).

    With `expected=None` the row is updated whatever its status.
    """
    sql = _update_sql(model, tuple(fields), expected is not None)
    params = _values(model, fields) + [pk] + ([expected] if expected is not None else [])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert(model, rows):
    """One multi-row INSERT of dicts that all have the same keys."""
    if not rows:
        return
    names = tuple(rows[0])
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    sql = f"{_insert_head(model, names)} VALUES {', '.join([one] * len(rows))}"
    params = [value for row in rows for value in _values(model, row)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def insert_returning_id(model, row):
    names = tuple(row)
    sql = f"{_insert_head(model, names)} VALUES ({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(sql + " RETURNING id", _values(model, row))
            return cursor.fetchone()[0]
        cursor.execute(sql, _values(model, row))
        return cursor.lastrowid


def _values(model, fields):
    get = _field_of(model)
    return [get(name).get_db_prep_value(value, connection) for name, value in fields.items()]


@functools.cache
def _field_of(model):
    fields = {f.name: f for f in model._meta.concrete_fields}
    fields.update({f.attname: f for f in model._meta.concrete_fields})
    return fields.__getitem__


@functools.cache
def _update_sql(model, names, with_status):
    quote = connection.ops.quote_name
    get = _field_of(model)
    sets = ", ".join(f"{quote(get(name).column)} = %s" for name in names)
    where = "id = %s" + (" AND status = %s" if with_status else "")
    return f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE {where}"


@functools.cache
def _insert_head(model, names):
    quote = connection.ops.quote_name
    get = _field_of(model)
    columns = ", ".join(quote(get(name).column) for name in names)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns})"


def select(model, columns, where, params, *, lock=False, order_by=""):
    """Model instances of `columns` only (others load on access), through `Model.objects.raw`
    so each backend's converters apply; `lock` adds FOR NO KEY UPDATE where supported."""
    sql = _select_sql(model, tuple(columns), where, order_by, lock)
    return list(model.objects.raw(sql, params))


@functools.cache
def _select_sql(model, columns, where, order_by, lock):
    quote = connection.ops.quote_name
    get = _field_of(model)
    names = ", ".join(quote(get(name).column) for name in columns)
    sql = f"SELECT {names} FROM {quote(model._meta.db_table)} WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    if lock and connection.features.has_select_for_update:
        no_key = connection.features.has_select_for_no_key_update
        sql += " FOR NO KEY UPDATE" if no_key else " FOR UPDATE"
    return sql
