"""Django's PostgreSQL backend with a health check that costs no round trip.

`CONN_HEALTH_CHECKS` makes Django check a reused connection before a request's first
statement; its check is a `SELECT 1`, one round trip on every request (on a webhook
delivery, a third of its round trips). A server that ends a session (a restart,
`pg_terminate_backend`, an idle timeout) sends its error and closes the socket, so the
socket turns readable: here an idle connection whose socket has nothing to read is
usable, and anything else gets Django's `SELECT 1`. What this does not see, a peer gone
without a word (a host lost, a network path cut), a `SELECT 1` would only wait on.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


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
