"""Django's PostgreSQL backend: fewer round trips, and long statements parsed once.

**A health check that costs no round trip.** `CONN_HEALTH_CHECKS` makes Django check a
reused connection before a request's first statement; its check is a `SELECT 1`, one
round trip on every request (on a webhook delivery, a third of its round trips). A server
that ends a session (a restart, `pg_terminate_backend`, an idle timeout) sends its error
and closes the socket, so the socket turns readable: here an idle connection whose socket
has nothing to read is usable, and anything else gets Django's `SELECT 1`. What this does
not see, a peer gone without a word (a host lost, a network path cut), a `SELECT 1` would
only wait on.

**BEGIN sent with the transaction's first statement.** When Django begins a transaction
(`atomic`), psycopg sends BEGIN before the first statement and waits for its answer, even
in pipeline mode: one round trip of every transaction, a fifth of a workflow step's. Here
psycopg stays in autocommit and the cursor sends BEGIN itself, pipelined with the first
statement: one round trip for both. Django's COMMIT and ROLLBACK are unchanged (psycopg
sends them whenever a transaction is open), and a transaction that ran no statement sends
none of the three.

**psycopg keeps its parse of longer statements.** psycopg converts a query's `%s`
placeholders once and caches the result, but only for texts up to 4 KiB. A run's start
(runner/fastsql.py, `Writes._send_as_one_statement`) is one 4.5 KB statement whose text
depends only on the kinds of writes in it, so it was converted again on every run and
webhook delivery. The limit is raised here; the cache stays bounded (psycopg's LRU of 128
texts), and texts with more than 50 parameters still go uncached.
"""

import select

from django.db.backends.postgresql import base
from psycopg import ClientCursor, _queries, pq

IDLE = pq.TransactionStatus.IDLE
CACHED_STATEMENT_BYTES = 16 * 1024
if (
    getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", CACHED_STATEMENT_BYTES)
    < CACHED_STATEMENT_BYTES
):
    _queries.MAX_CACHED_STATEMENT_LENGTH = CACHED_STATEMENT_BYTES


class DatabaseWrapper(base.DatabaseWrapper):
    begin_pending = False  # Django is in a transaction that has not sent BEGIN yet

    def get_connection_params(self):
        params = super().get_connection_params()
        if params["cursor_factory"] is base.ServerBindingCursor:
            params["cursor_factory"] = ServerBindingCursor
        else:
            params["cursor_factory"] = Cursor
        return params

    def _set_autocommit(self, autocommit):
        # psycopg itself stays in autocommit; Django's own flag (`self.autocommit`) says
        # whether a transaction is wanted.
        if not self.connection.autocommit:
            with self.wrap_database_errors:
                self.connection.autocommit = True
        self.begin_pending = not autocommit

    def _commit(self):
        super()._commit()
        self.begin_pending = not self.autocommit  # (a commit outside `atomic`)

    def _rollback(self):
        super()._rollback()
        self.begin_pending = not self.autocommit

    def create_cursor(self, name=None):
        if name:
            self.begin_now()  # a named cursor's DECLARE belongs to the transaction
            return super().create_cursor(name)  # (psycopg's ServerCursor takes no attribute)
        cursor = super().create_cursor(name)
        cursor.database = self
        return cursor

    def begin_now(self):
        """Send BEGIN on its own, if a transaction is wanted and not yet begun."""
        if self.begin_pending:
            self.begin_pending = False
            if self.connection.info.transaction_status == IDLE:
                ClientCursor(self.connection).execute("BEGIN")

    def is_usable(self):
        if self.connection is None or self.connection.closed:
            return False
        pgconn = self.connection.pgconn
        idle = pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status == IDLE
        if idle and not _readable(pgconn.socket):
            return True
        return super().is_usable()


class BeginsWithFirstStatement:
    """A cursor that sends its transaction's BEGIN with the first statement."""

    database = None  # the DatabaseWrapper, set as the cursor is made

    def execute(self, query, params=None, **options):
        database = self.database
        if database is None or not database.begin_pending:
            return super().execute(query, params, **options)
        database.begin_pending = False
        connection = self.connection
        if connection.info.transaction_status != IDLE:
            return super().execute(query, params, **options)
        # Already batching, BEGIN joins the batch. Perhaps several statements (a flush, a
        # migration's SQL), which only the simple protocol takes: BEGIN goes first, alone.
        if connection._pipeline is not None or not isinstance(query, str) or ";" in query:
            ClientCursor(connection).execute("BEGIN")
            return super().execute(query, params, **options)
        with connection.pipeline():
            ClientCursor(connection).execute("BEGIN")
            super().execute(query, params, **options)
        return self

    def executemany(self, query, params_seq, **options):
        self._begin_now()
        return super().executemany(query, params_seq, **options)

    def copy(self, statement, params=None, **options):
        self._begin_now()
        return super().copy(statement, params, **options)

    def stream(self, query, params=None, **options):
        self._begin_now()
        return super().stream(query, params, **options)

    def _begin_now(self):
        if self.database is not None:
            self.database.begin_now()


class Cursor(BeginsWithFirstStatement, base.Cursor):
    pass


class ServerBindingCursor(BeginsWithFirstStatement, base.ServerBindingCursor):
    pass


def _readable(fd):
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
