"""The engine's hottest statements, written out.

Building a statement through the ORM costs several times the CPU of the statement itself
(docs/BENCHMARKS.md), and a step runs a handful of them. These helpers write the same
SQL by hand, adapting values with the fields' own `get_db_prep_value` (or, for rows sent
in bulk to PostgreSQL, as one JSON record set), and read plain rows through the fields'
converters, so they work on PostgreSQL and SQLite alike.
"""

import datetime
import functools
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Field
from psycopg import ClientCursor

from core import key_order


def update_if(model, pk, expected, /, **fields):
    """`UPDATE ... SET fields WHERE id = pk AND status = expected`; the rows changed (0 or 1).

    With `expected=None` the row is updated whatever its status.
    """
    fields = _ordered(model, fields)
    sql = _update_sql(model, tuple(fields), expected is not None)
    params = _values(model, fields) + [pk] + ([expected] if expected is not None else [])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert(model, rows):
    """One multi-row INSERT of dicts that all have the same keys."""
    if not rows:
        return
    rows = [_ordered(model, row) for row in rows]
    names = tuple(rows[0])
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    sql = f"{_insert_head(model, names)} VALUES {', '.join([one] * len(rows))}"
    params = [value for row in rows for value in _values(model, row)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def insert_returning_id(model, row):
    row = _ordered(model, row)
    names = tuple(row)
    sql = f"{_insert_head(model, names)} VALUES ({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(sql + " RETURNING id", _values(model, row))
            return cursor.fetchone()[0]
        cursor.execute(sql, _values(model, row))
        return cursor.lastrowid


def create_all(instances):
    """Insert model instances of one model and set their ids, as `bulk_create` does, in one
    statement whose text does not grow with their number (PostgreSQL; `bulk_create` elsewhere).
    """
    model = type(instances[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = tuple(f.attname for f in fields)
    rows = [{f.attname: f.pre_save(obj, add=True) for f in fields} for obj in instances]
    with connection.cursor() as cursor:
        cursor.execute(_create_sql(model, names), [_records(rows)])
        # One statement takes its ids from the sequence in the order it inserts: ascending.
        ids = sorted(row[0] for row in cursor.fetchall())
    for obj, pk in zip(instances, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = "default"


def _ordered(model, fields):
    """The write with the key orders of its JSON fields added (core/key_order.py)."""
    return key_order.with_orders(model, fields, _orders(model))


@functools.cache
def _orders(model):
    return key_order.orders_of(model)


@functools.cache
def _create_sql(model, names):
    quote = connection.ops.quote_name
    typed = ", ".join(_typed(model, names))
    aliases = ", ".join(quote(name) for name in names)
    return (
        f"{_insert_head(model, names)} SELECT {aliases} "
        f"FROM ROWS FROM (json_to_recordset(%s::json) AS ({typed})) "
        f"WITH ORDINALITY AS v({aliases}, n) ORDER BY n RETURNING id"
    )


def next_ids(*wanted):
    """Ids for rows about to be inserted, from their tables' sequences, in one statement
    (PostgreSQL): `wanted` is (model, count) pairs; returns a list of ids per pair, each
    ascending. Knowing them first lets rows that point at each other go in one statement."""
    arrays = ", ".join(
        ["ARRAY(SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s))"]
        * len(wanted)
    )
    params = [value for model, count in wanted for value in (model._meta.db_table, count)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {arrays}", params)
        return [sorted(ids) for ids in cursor.fetchone()]


def row_of(instance):
    """A model instance as the row `Writes.insert` takes (its id included when set)."""
    row = {}
    for attname, field, plain in _row_fields(type(instance)):
        if field.primary_key and instance.pk is None:
            continue
        # A field that keeps Field.pre_save only reads its attribute: read it here (a run's
        # start reads ~50 fields, on every run and webhook delivery).
        row[attname] = getattr(instance, attname) if plain else field.pre_save(instance, True)
    return row


@functools.cache
def _row_fields(model):
    plain = Field.pre_save
    return tuple((f.attname, f, type(f).pre_save is plain) for f in model._meta.concrete_fields)


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


@functools.cache
def _select_sql(model, columns, where, order_by, lock, only=None):
    quote = connection.ops.quote_name
    get = _field_of(model)
    where = " AND ".join(
        f"{quote(get(name).column)} IS NULL" if is_null else f"{quote(get(name).column)} = %s"
        for name, is_null in where
    )
    order_by = ", ".join(quote(get(name).column) for name in order_by)
    selected = [quote(get(name).column) for name in columns]
    if only is not None:
        column, by, count = only
        among = ", ".join(["%s"] * count) or "NULL"
        selected[columns.index(column)] = (
            f"CASE WHEN {quote(get(by).column)} IN ({among}) THEN {quote(get(column).column)} END"
        )
    names = ", ".join(selected)
    sql = f"SELECT {names} FROM {quote(model._meta.db_table)} WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    if lock and connection.features.has_select_for_update:
        no_key = connection.features.has_select_for_no_key_update
        sql += " FOR NO KEY UPDATE" if no_key else " FOR UPDATE"
    return sql


class Row:
    """A row read by `rows`: plain attributes, none of a model instance's machinery."""

    def __init__(self, names, values):
        self.__dict__.update(zip(names, values, strict=True))


def rows(model, columns, where, *, lock=False, order_by=(), only=None):
    """Rows of `columns` as plain `Row`s, through each field's converters: no model
    instances, which cost more than the query for the engine's per-step read of a run's
    steps. `where` is {field: value} (all equal; None: IS NULL); `lock` adds FOR NO KEY
    UPDATE where supported. `only=(column, by, values)` reads `column` only in rows whose
    `by` is among `values` (None elsewhere)."""
    return read(select(model, columns, where, lock=lock, order_by=order_by, only=only))


@dataclass(frozen=True)
class Select:
    """A `rows` read, written out but not sent: `read` sends it, or `lock_then_update`
    sends it in the same round trip as its lock."""

    model: type
    columns: tuple
    sql: str
    params: list


def select(model, columns, where, *, lock=False, order_by=(), only=None):
    """The `Select` that `rows` with these arguments sends."""
    columns = tuple(columns)
    shape = None if only is None else (only[0], only[1], len(only[2]))
    conditions = tuple((name, value is None) for name, value in where.items())
    sql = _select_sql(model, columns, conditions, tuple(order_by), lock, shape)
    params = _values(model, {name: value for name, value in where.items() if value is not None})
    if only is not None:
        params = list(only[2]) + params
    return Select(model, columns, sql, params)


def read(query):
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return _rows_of(query, cursor.fetchall())


def _rows_of(query, found):
    return [_row(query.model, query.columns, values) for values in found]


def _row(model, columns, values):
    convert = _converters(model, columns)
    if convert:
        values = list(values)
        for index, functions, expression in convert:
            for function in functions:
                values[index] = function(values[index], expression, connection)
    return Row(columns, values)


def lock_then_update(locked, updated, /, then=None, **fields):
    """Lock one row and read `columns` of it, then, holding that lock, compare-and-set
    another: `locked` is (model, pk, columns), `updated` (model, pk, expected status).
    One statement on PostgreSQL. `then` (a `Select`) is read next, under the lock, in the
    same round trip (pipeline mode). Returns (the locked row or None, rows updated, the
    rows `then` read or None)."""
    lock_model, lock_pk, columns = locked
    model, pk, expected = updated
    columns = tuple(columns)
    if connection.vendor != "postgresql":
        found = rows(lock_model, columns, {"id": lock_pk}, lock=True)
        if not found:
            return None, 0, None
        count = update_if(model, pk, expected, **fields)
        return found[0], count, (read(then) if then is not None and count else None)
    lock_sql = _select_sql(lock_model, columns, (("id", False),), (), True)
    update_sql = _update_sql(model, tuple(fields), True)
    # The update's EXISTS reads the locked row first: the lock comes before the update.
    sql = (
        f"WITH l AS ({lock_sql}), u AS ({update_sql} AND EXISTS (SELECT 1 FROM l) "
        "RETURNING 1) SELECT l.*, (SELECT count(*) FROM u) FROM l"
    )
    params = [lock_pk] + _values(model, fields) + [pk, expected]
    with connection.cursor() as cursor, connection.cursor() as after:
        if then is None:
            cursor.execute(sql, params)
        else:
            # Sent together, run one after the other: `then` is its own statement, so
            # its snapshot is taken once the lock is held (READ COMMITTED) and it sees
            # what the lock's previous holder committed.
            # Errors surface as the pipeline ends: wrapped as Django's, like any statement's
            # (a dropped connection is an OperationalError the executor rides out).
            connection.ensure_connection()
            with connection.wrap_database_errors, connection.connection.pipeline():
                cursor.execute(sql, params)
                after.execute(then.sql, then.params)
        found = cursor.fetchone()
        later = _rows_of(then, after.fetchall()) if then is not None else None
    if found is None:
        return None, 0, None
    return _row(lock_model, columns, found[:-1]), found[-1], later


def attempt_with_step_and_run(attempt_id, attempt, step, run):
    """An attempt with its step and run, read in one statement: (attempt, step, run) as
    Rows, or None; each argument is (model, columns). Every claim starts with it."""
    quote = connection.ops.quote_name
    a, s, r = (quote(model._meta.db_table) for model, _ in (attempt, step, run))
    tail = (
        f"FROM {a} a JOIN {s} s ON s.id = a.step_run_id JOIN {r} r ON r.id = a.run_id "
        "WHERE a.id = %s"
    )
    parts = [(attempt[0], "a", attempt[1]), (step[0], "s", step[1]), (run[0], "r", run[1])]
    return _joined(parts, tail, [attempt_id])


def _joined(parts, tail, params):
    quote = connection.ops.quote_name
    get_columns = []
    for model, alias, columns in parts:
        get = _field_of(model)
        get_columns += [f"{alias}.{quote(get(name).column)}" for name in columns]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(get_columns)} {tail}", params)
        values = cursor.fetchone()
    if values is None:
        return None
    found, start = [], 0
    for model, _, columns in parts:
        found.append(_row(model, tuple(columns), values[start : start + len(columns)]))
        start += len(columns)
    return found


@functools.cache
def _converters(model, columns):
    get = _field_of(model)
    table = model._meta.db_table
    found = []
    for index, name in enumerate(columns):
        column = get(name).get_col(table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            found.append((index, functions, column))
    return tuple(found)


class LostUpdate(Exception):
    """A compare-and-set found the row in another status than the one expected.

    `rows` are the (model, pk) pairs that may have missed, so a caller can tell a late
    result (its own attempt moved on) from a bug."""

    def __init__(self, message, rows=()):
        super().__init__(message)
        self.rows = tuple(rows)


class ForbiddenTransition(Exception):
    """A status change that the model's table of allowed transitions does not list."""


class Pending:
    """A row `Writes.insert` holds: `id` is set when it is sent, if `wanted`."""

    __slots__ = ("id", "wanted")

    def __init__(self, wanted):
        self.id = None
        self.wanted = wanted


class Writes:
    """Every write of one transaction, sent together: the engine's one way to write.

    On PostgreSQL they go as one statement of data-modifying CTEs: one round trip where
    a step used to take five. Every update of a status is a compare-and-set checked
    against `transitions` ({model: {old: {new, ...}}}); two updates of one row are merged
    (a statement cannot change a row twice) only when the second expects the status the
    first leaves, and an update of a row still to be inserted changes that row, under the
    same check (a Pending handle's row, or a row inserted with its `id`: `next_ids`).
    `send` raises LostUpdate when a compare-and-set changed no row. `born` ({model:
    statuses}) lists the statuses a row may be inserted with.
    """

    def __init__(self, transitions=None, born=None):
        self.transitions = transitions or {}
        self.born = born or {}
        self.updates = {}  # (model, pk) -> [expected status or None, {field: value}]
        self.inserts = []  # (model, row, Pending)
        self.unsent = {}  # (model, id) -> row: rows to insert with their own id
        self.sending = False

    def update(self, model, pk, expected, /, **fields):
        fields = _ordered(model, fields)
        if "status" in fields:
            self._check(model, expected, fields["status"])
        if isinstance(pk, Pending):
            if pk.id is None:
                self._update_pending(model, pk, expected, fields)
                return
            pk = pk.id
        if (model, pk) in self.unsent:
            self._update_unsent(model, self.unsent[(model, pk)], expected, fields)
            return
        pending = self.updates.get((model, pk))
        if pending is None:
            self.updates[(model, pk)] = [expected, dict(fields)]
            return
        held, changes = pending
        current = changes.get("status", held)
        if expected is not None:
            if current is None:
                pending[0] = expected  # the row must hold it already: the statement checks
            elif current != expected:
                raise LostUpdate(
                    f"{model.__name__} {pk}: expected {expected}, but this transaction "
                    f"leaves it {current}",
                    [(model, pk)],
                )
        changes.update(fields)

    def _update_pending(self, model, handle, expected, fields):
        for kind, row, pending in self.inserts:
            if pending is handle and kind is model:
                self._update_unsent(model, row, expected, fields)
                return
        raise KeyError("no pending insert has this handle")

    def _update_unsent(self, model, row, expected, fields):
        if expected is not None and row.get("status") != expected:
            raise LostUpdate(f"{model.__name__} (new): {row.get('status')}, not {expected}")
        get = _field_of(model)
        # By column name: rows of one table must keep the same keys to travel together.
        row.update({get(name).attname: value for name, value in fields.items()})

    def _check(self, model, old, new):
        table = self.transitions.get(model)
        if table is not None and new not in table.get(old, ()):
            raise ForbiddenTransition(f"{model.__name__}: {old} -> {new} is not allowed")

    def insert(self, model, row, *, wants_id=False):
        """Returns a `Pending` whose `id` is the new row's after `send` (`wants_id`)."""
        statuses = self.born.get(model)
        if statuses is not None and row.get("status") not in statuses:
            raise ForbiddenTransition(f"{model.__name__}: born {row.get('status')}")
        row = _ordered(model, row)
        handle = Pending(wants_id)
        self.inserts.append((model, row, handle))
        if row.get("id") is not None:
            self.unsent[(model, row["id"])] = row
        return handle

    def create(self, instances):
        """Send what is pending, then insert model instances and set their ids (one
        statement on PostgreSQL: `create_all`); for rows others point at."""
        self.send()
        statuses = self.born.get(type(instances[0]))
        for obj in instances:
            if statuses is not None and obj.status not in statuses:
                raise ForbiddenTransition(f"{type(obj).__name__}: born {obj.status}")
        create_all(instances)

    def send(self, lock=None, then=None, *, commit=False):
        """Send every pending write. With `lock=(model, pk, columns)`, that row is locked
        and read first, in the same statement on PostgreSQL when one update is pending;
        returns it (None when it does not exist, and then nothing is sent). With `then`
        (a `Select`) too, returns (locked, what `then` read after the writes, under the
        lock): in the same round trip when the lock and the writes are one statement.

        With `commit`, these are the transaction's last writes: on PostgreSQL, when this
        is the outermost `atomic` block, COMMIT goes in the same round trip (`_committed`).
        """
        self.sending = True
        try:
            if lock is not None:
                locked, done, later = self._lock(lock, then)
                if locked is None or done:
                    return locked if then is None else (locked, later)
            else:
                locked = None
            if connection.vendor == "postgresql":
                self._send_as_one_statement(commit and lock is None and then is None)
            else:
                self._send_one_by_one()
            if then is not None:
                return locked, read(then)
            return locked
        finally:
            self.sending = False
            self.updates.clear()
            self.inserts.clear()
            self.unsent.clear()

    def _lock(self, lock, then):
        model, pk, columns = lock
        if connection.vendor == "postgresql" and len(self.updates) == 1 and not self.inserts:
            ((target, target_pk), (expected, fields)) = next(iter(self.updates.items()))
            if expected is not None:
                found, count, later = lock_then_update(
                    lock, (target, target_pk, expected), then=then, **fields
                )
                if found is not None and count != 1:
                    raise LostUpdate(
                        f"{target.__name__} {target_pk} left {expected}", [(target, target_pk)]
                    )
                return found, True, later
        found = rows(model, columns, {"id": pk}, lock=True)
        return (found[0] if found else None), False, None

    def _send_one_by_one(self):
        for (model, pk), (expected, fields) in self.updates.items():
            if update_if(model, pk, expected, **fields) != 1:
                raise LostUpdate(f"{model.__name__} {pk} left {expected}", [(model, pk)])
        for model, row, handle in self.inserts:
            if handle.wanted:
                handle.id = insert_returning_id(model, row)
            else:
                insert(model, [row])

    def _send_as_one_statement(self, commit=False):
        """Rows of the same table and columns travel as one JSON array, so the statement's
        text depends only on which kinds of writes there are: psycopg parses it once, and
        PostgreSQL plans it once as a prepared statement, however many rows it carries.

        With `commit` (and where `_committed` allows it), COMMIT follows in the same round
        trip, and PostgreSQL checks each compare-and-set itself (`brickwork_expect`, a
        function of runner's migrations): a miss fails the statement, so COMMIT commits
        nothing, where a count checked here would come after COMMIT had run.
        """
        commit = commit and _may_commit_here()
        ctes, params, outputs, checks = [], [], [], []
        output_params = []  # the outputs' own, after every write's in the statement
        updates = {}  # (model, names, with_status) -> [(pk, expected, fields)]
        for (model, pk), (expected, fields) in self.updates.items():
            key = (model, tuple(fields), expected is not None)
            updates.setdefault(key, []).append((pk, expected, fields))
        for (model, names, with_status), many in updates.items():
            name = f"w{len(ctes)}"
            ctes.append(f"{name} AS ({_batch_update_sql(model, names, with_status)})")
            params.append(
                _records([{"pk": pk, "expected": old, **fields} for pk, old, fields in many])
            )
            if commit:
                outputs.append(f"brickwork_expect((SELECT count(*) FROM {name}), %s, %s)")
                output_params += [len(many), str(len(checks))]
            else:
                outputs.append(f"(SELECT count(*) FROM {name})")
            checks.append((len(many), [(model, pk) for pk, _, _ in many]))
        batched = {}  # rows without a wanted id, one INSERT per table and columns
        for model, row, handle in self.inserts:
            if not handle.wanted:
                batched.setdefault((model, tuple(row)), []).append(row)
                continue
            name = f"w{len(ctes)}"
            head = _insert_head(model, tuple(row))
            ctes.append(f"{name} AS ({head} VALUES ({', '.join(['%s'] * len(row))}) RETURNING id)")
            params += _values(model, row)
            outputs.append(f"(SELECT id FROM {name})")
            checks.append(handle)
        for (model, names), many in batched.items():
            ctes.append(f"w{len(ctes)} AS ({_batch_insert_sql(model, names)})")
            params.append(_records(many))
        if not ctes:
            return
        sql = f"WITH {', '.join(ctes)} SELECT {', '.join(outputs) or '1'}"
        params += output_params
        with connection.cursor() as cursor:
            if commit:
                _committed(cursor, sql, params, checks)
            else:
                cursor.execute(sql, params)
            answer = cursor.fetchone() if checks else ()
        for check, value in zip(checks, answer, strict=True):
            if isinstance(check, Pending):
                check.id = value
            elif value != check[0]:
                raise LostUpdate(f"{check[1]} changed under the lock", check[1])


def _may_commit_here():
    """Whether this transaction is the outermost `atomic` block, with nothing that a
    COMMIT sent now would cut short: no savepoint, no rollback wanted."""
    return (
        connection.in_atomic_block
        and len(connection.atomic_blocks) == 1
        and not connection.savepoint_ids
        and not connection.needs_rollback
    )


def _committed(cursor, sql, params, checks):
    """The statement, then COMMIT, in one round trip (pipeline mode). Django's own COMMIT,
    as the `atomic` block ends, then finds nothing to commit; a statement run before that
    would begin a new transaction (core/postgresql), never run outside one."""
    connection.ensure_connection()
    raw = connection.connection
    try:
        with connection.wrap_database_errors, raw.pipeline():
            if settings.ASYNC_STEP_COMMIT:
                ClientCursor(raw).execute("SET LOCAL synchronous_commit = off")
            cursor.execute(sql, params)
            ClientCursor(raw).execute("COMMIT")
    except DatabaseError as error:
        diag = getattr(error.__cause__, "diag", None)
        if diag is None or diag.sqlstate != "BW001":
            raise
        rows = checks[int(diag.message_primary)][1]
        raise LostUpdate(f"{rows} changed under the lock", rows) from error
    connection.begin_pending = True


def _records(rows):
    """The rows as one JSON parameter: json.dumps is C, while adapting arrays value by
    value in psycopg cost more than the statement itself."""
    return json.dumps(rows, default=_json_default)


def _json_default(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    raise TypeError(f"{value.__class__.__name__} is not JSON serializable")


def _recordset(model, names, extra=()):
    """`json_to_recordset(%s::json) AS v(...)`, typed as the model's columns."""
    quote = connection.ops.quote_name
    columns = [f"{quote(key)} {kind}" for key, kind in extra] + _typed(model, names)
    return f"json_to_recordset(%s::json) AS v({', '.join(columns)})"


def _typed(model, names):
    """Column definitions for a record set: each name with its field's database type."""
    quote = connection.ops.quote_name
    get = _field_of(model)
    return [f"{quote(name)} {get(name).db_type(connection)}" for name in names]


@functools.cache
def _batch_update_sql(model, names, with_status):
    quote = connection.ops.quote_name
    get = _field_of(model)
    extra = [("pk", model._meta.pk.db_type(connection))]
    if with_status:
        extra.append(("expected", get("status").db_type(connection)))
    sets = ", ".join(f"{quote(get(name).column)} = v.{quote(name)}" for name in names)
    where = 't.id = v."pk"' + (' AND t.status = v."expected"' if with_status else "")
    # The planner guesses 100 rows for any record set, and with that guess a hash join
    # over a sequential scan of the whole table beats 100 index probes: the ids as an
    # array make it find the rows by primary key, however large the table.
    return (
        f"WITH v AS MATERIALIZED (SELECT * FROM {_recordset(model, names, extra)}) "
        f"UPDATE {quote(model._meta.db_table)} AS t SET {sets} FROM v "
        f'WHERE {where} AND t.id = ANY(ARRAY(SELECT "pk" FROM v)) RETURNING 1'
    )


@functools.cache
def _batch_insert_sql(model, names):
    quote = connection.ops.quote_name
    columns = ", ".join(f"v.{quote(name)}" for name in names)
    return f"{_insert_head(model, names)} SELECT {columns} FROM {_recordset(model, names)}"
