"""A transaction that begins only if it must: for writes that may fit in one statement.

On PostgreSQL a single statement outside a transaction is atomic on its own, so a unit of
work that ends up as one statement needs no BEGIN and no COMMIT: two round trips that a
webhook delivery would otherwise add to its two (docs/BENCHMARKS.md). Inside `lazy()`, the first
statement not marked `alone()` begins the transaction (`atomic`), so whatever else the work
does, reads or writes, it still does in one transaction, as if it had begun first. Only
the statements marked `alone()` may run before it: one that is the whole unit's only write
and the last statement of the block, or one whose effect no rollback would undo anyway
(`nextval`). Writes held back for that one statement are sent when the transaction
begins (`on_begin`), so that what runs in it reads them as if they had been sent at once.

Elsewhere (SQLite, or inside a caller's transaction) it is `atomic(savepoint=False)`.
"""

from contextlib import ExitStack, contextmanager

from django.db import connection, transaction


class Lazy:
    def __init__(self, stack):
        self._stack = stack
        self._alone = False
        self.begun = False
        self.on_begin = None  # called once the transaction has begun

    @contextmanager
    def alone(self):
        """Statements run here do not begin the transaction (see the module's docstring)."""
        self._alone = True
        try:
            yield
        finally:
            self._alone = False

    def begin(self):
        if not self.begun:
            self.begun = True
            self._stack.enter_context(transaction.atomic(savepoint=False))
            if self.on_begin is not None:
                self.on_begin()

    def _before_statement(self, execute, sql, params, many, context):
        if not self._alone:
            self.begin()
        return execute(sql, params, many, context)


@contextmanager
def lazy():
    with ExitStack() as stack:
        unit = Lazy(stack)
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            unit.begin()
            yield unit
            return
        with connection.execute_wrapper(unit._before_statement):
            yield unit
