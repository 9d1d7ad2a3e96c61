"""Real servers on loopback for the tests: SMTP (aiosmtpd), HTTP, and the Dramatiq worker."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url():
    """The URL of the database pytest-django created, for processes we start."""
    from django.db import connection

    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


class WorkerProcess:
    """`dramatiq runner.worker:broker` as a child process, like production runs it."""

    def __init__(self, database_url, email_url="", processes=1, threads=8, extra_env=None):
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "EMAIL_URL": email_url,
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.processes, self.threads = processes, threads
        self.process = None
        self.log_path = ROOT / ".run" / f"test-worker-{os.getpid()}.log"

    def start(self):
        self.log_path.parent.mkdir(exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dramatiq", "runner.worker:broker"]
                + ["--processes", str(self.processes), "--threads", str(self.threads)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started_at = time.time()

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout=30):
        """Until a heartbeat of this worker's processes is in the database."""
        from core.models import WorkerHeartbeat

        deadline = time.time() + timeout
        while time.time() < deadline:
            if WorkerHeartbeat.objects.filter(last_seen_at__gte=_since(2)).exists():
                return
            if not self.alive():
                raise RuntimeError(f"the worker exited; see {self.log_path}")
            time.sleep(0.1)
        raise TimeoutError(f"no worker heartbeat within {timeout}s; see {self.log_path}")

    def worker_pids(self):
        """The pids of the worker processes (children of the dramatiq main process)."""
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def kill_hard(self):
        """SIGKILL the whole process group, as a crashed host would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def _since(seconds):
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() - timedelta(seconds=seconds)


class SmtpServer:
    """aiosmtpd on loopback; `drop_next(n)` answers 421 to the next n messages."""

    def __init__(self):
        self.messages = []
        self.refused = 0
        self._drop = 0
        self.port = free_port()
        self.lock = threading.Lock()

    def start(self):
        from aiosmtpd.controller import Controller

        server = self

        class Handler:
            async def handle_DATA(self, smtp, session, envelope):
                with server.lock:
                    if server._drop > 0:
                        server._drop -= 1
                        server.refused += 1
                        return "421 Service not available, try again later"
                    server.messages.append(envelope)
                return "250 Message accepted"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def drop_next(self, count):
        with self.lock:
            self._drop = count

    def clear(self):
        with self.lock:
            self.messages.clear()
            self.refused = 0
            self._drop = 0

    def stop(self):
        self.controller.stop()


class HttpServer:
    """A loopback HTTP server that records requests and answers from a script.

    `respond(path, [(status, body, headers), ...])` sets the answers for a path in order;
    the last one repeats. Unknown paths answer 200 with the request echoed.
    """

    def __init__(self):
        self.port = free_port()
        self.requests = []
        self.scripts = {}
        self.lock = threading.Lock()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def respond(self, path, answers):
        with self.lock:
            self.scripts[path] = list(answers)

    def clear(self):
        with self.lock:
            self.requests.clear()
            self.scripts.clear()

    def start(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                record = {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "body": body,
                }
                with server.lock:
                    server.requests.append(record)
                    script = server.scripts.get(self.path.split("?")[0])
                    answer = (script.pop(0) if len(script) > 1 else script[0]) if script else None
                status, payload, headers = answer or (200, {"echo": record}, {})
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
