"""Dramatiq middleware: database connections per message, and the worker's own loop."""

import logging
import threading

from django.db import close_old_connections, connections
from dramatiq.middleware import Middleware

log = logging.getLogger(__name__)


class DatabaseConnections(Middleware):
    """Drop broken or expired connections around each message, as Django does per request."""

    def before_process_message(self, broker, message):
        close_old_connections()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        close_old_connections()

    after_skip_message = after_process_message


class WorkerLifecycle(Middleware):
    """Each worker process beats its heart and runs the sweeper in one background thread."""

    def __init__(self):
        self.stop = threading.Event()
        self.thread = None

    def after_worker_boot(self, broker, worker):
        from runner.sweeper import loop

        self.stop.clear()
        self.thread = threading.Thread(target=loop, args=(self.stop,), daemon=True, name="sweeper")
        self.thread.start()

    def before_worker_shutdown(self, broker, worker):
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
        from runner.sweeper import forget_worker

        try:
            forget_worker()
        except Exception:  # the database may be gone at shutdown; the row just ages out
            log.debug("could not remove the heartbeat row", exc_info=True)
        for connection in connections.all():
            connection.close()
