"""Django's PostgreSQL backend with a health check that costs no round trip.

`CONN_HEALTH_CHECKS` makes Django check a reused connection before a request's first
statement; its check is a `SELECT 1`, one round trip on every request (on a webhook
delivery, a third of its round trips). A server that ends a session (a restart,
`pg_terminate_backend`, an idle timeout) sends its error and closes the socket, so the
socket turns readable: here an idle connection whose socket has nothing to read is
usable, and anything else gets Django's `SELECT 1`. What this does not see, a peer gone
without a word (a host lost, a network path cut), a `SELECT 1` would only wait on.

It also lets psycopg keep its parse of longer statements: psycopg converts a query's
`%s` placeholders to `$n` once and caches the result, but only for texts up to 4 KiB. A
run's start (runner/fastsql.py, `Writes._send_as_one_statement`) is one 4.5 KB statement
whose text depends only on the kinds of writes in it, so it was converted again on every
run, webhook delivery and step (~4 % of a delivery's Python). The cache stays bounded
(psycopg's LRU of 128 texts), and texts with more than 50 parameters still go uncached.
"""

import select

from django.db.backends.postgresql import base
from psycopg import _queries, pq

CACHED_STATEMENT_BYTES = 16 * 1024
if (
    getattr(_queries, "MAX_CACHED_STATEMENT_LENGTH", CACHED_STATEMENT_BYTES)
    < CACHED_STATEMENT_BYTES
):
    _queries.MAX_CACHED_STATEMENT_LENGTH = CACHED_STATEMENT_BYTES


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        if self.connection is None or self.connection.closed:
            return False
        pgconn = self.connection.pgconn
        idle = (
            pgconn.status == pq.ConnStatus.OK
            and pgconn.transaction_status == pq.TransactionStatus.IDLE
        )
        if idle and not _readable(pgconn.socket):
            return True
        return super().is_usable()


def _readable(fd):
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
