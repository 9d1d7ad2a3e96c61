"""`manage.py up`, what `make run` runs: the whole of Brickwork on one machine.

1. With no REDIS_URL (and no Redis BROKER_URL) start a private Redis on a free port.
2. Migrate the database and load the demo (`seed_demo`).
3. Start one Dramatiq worker process and, once it beats, the web server (gunicorn on
   127.0.0.1:$PORT); both are told the Redis URL through their environment.
4. Wait for /healthz to report the live worker, then print the URL and how to sign in.
5. Until a stop signal, restart any child that dies, with backoff (core/supervisor.py);
   the web server keeps serving while the worker or Redis is down.
6. On SIGINT, SIGTERM or SIGHUP stop web and worker, then Redis, and exit 0.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

from core.processes import Child, port_in_use, start_redis
from core.supervisor import Supervisor

READY_TIMEOUT_S = 90


class Interrupted(Exception):
    """A stop signal arrived while starting up."""


class Command(BaseCommand):
    help = "Run web server, worker and (when needed) a private Redis until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument(
            "--state-dir",
            type=Path,
            default=settings.BASE_DIR / ".run",
            help="where the private Redis, its URL (redis.url) and the demo password live",
        )

    def handle(self, *args, state_dir, **options):
        port = _port()
        if port_in_use(port):
            raise CommandError(f"port {port} on 127.0.0.1 is taken; choose another with PORT=")
        state_dir.mkdir(parents=True, exist_ok=True)
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda *_: stopping.set())
        supervisor = Supervisor(say=self._say)
        try:
            self._run(port, state_dir, stopping, supervisor)
        except Interrupted:
            pass
        finally:
            supervisor.stop()
            (state_dir / "redis.url").unlink(missing_ok=True)
        self._say("Stopped.")

    def _run(self, port, state_dir, stopping, supervisor):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if _needs_private_redis(env):
            self._start_redis(state_dir, env, supervisor)
        password_file = _demo_password_file(state_dir)
        self._manage(env, stopping, "migrate", "--noinput", "--verbosity", "0")
        self._manage(env, stopping, "seed_demo", "--password-file", str(password_file))

        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        worker = [*manage, "worker", "--processes", "1", "--threads", "8"]
        supervisor.start(Child("worker", worker, env=env, cwd=settings.BASE_DIR))
        # Web after the worker's first heartbeat, so /healthz answers 200 from the start.
        booted = timezone.now()
        self._wait_for("worker heartbeat", lambda: _heartbeat_since(booted), supervisor, stopping)
        # WhiteNoise serves static files from the finders; it only warns about a missing root.
        Path(settings.STATIC_ROOT).mkdir(exist_ok=True)
        supervisor.start(Child("web", gunicorn_command(port), env=env, cwd=settings.BASE_DIR))
        url = f"http://127.0.0.1:{port}/"
        self._wait_for("/healthz", lambda: _health(url + "healthz"), supervisor, stopping)
        self._say(
            f"\nBrickwork is running at {url}\n"
            f"Sign in as demo with password {password_file.read_text().strip()} "
            f"(Django admin: {url}admin/)\n"
            "Press Ctrl-C to stop.\n"
        )
        while not stopping.wait(0.2):
            supervisor.check()

    def _start_redis(self, state_dir, env, supervisor):
        redis, url = start_redis(state_dir, state_dir / "redis.log")
        supervisor.start(redis, stopped_last=True)
        (state_dir / "redis.url").write_text(url + "\n")
        env["REDIS_URL"] = url
        env.setdefault("BROKER_URL", url)
        self._say(f"Started a private Redis at {url} (stopped on exit).")

    def _manage(self, env, stopping, *command):
        done = subprocess.run(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), *command],
            env=env,
            cwd=settings.BASE_DIR,
            stdin=subprocess.DEVNULL,
        )
        if stopping.is_set():
            raise Interrupted
        if done.returncode != 0:
            raise CommandError(f"manage.py {command[0]} failed (exit {done.returncode})")

    def _wait_for(self, what, check, supervisor, stopping):
        """Poll `check() -> (done, detail)` until done (restarting dead children); stop early
        on a signal."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        detail = "no answer"
        while time.monotonic() < deadline:
            if stopping.is_set():
                raise Interrupted
            supervisor.check()
            done, detail = check()
            if done:
                return
            stopping.wait(0.2)
        raise CommandError(f"no {what} after {READY_TIMEOUT_S} s: {detail}")

    def _say(self, message):
        self.stdout.write(message)
        self.stdout.flush()


def _port():
    raw = os.environ.get("PORT", "8000")
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise CommandError(f"PORT must be a port number, not {raw!r}")
    return int(raw)


def _needs_private_redis(env):
    """No Redis configured: neither REDIS_URL nor a Redis BROKER_URL (RabbitMQ needs one too)."""
    broker = env.get("BROKER_URL", "")
    return not env.get("REDIS_URL") and not broker.startswith(("redis", "unix"))


def _demo_password_file(state_dir):
    """A random password kept in the state dir, so it stays the same from run to run."""
    path = state_dir / "demo-password"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(12))
    return path


def _heartbeat_since(moment):
    from core.models import WorkerHeartbeat

    try:
        beating = WorkerHeartbeat.objects.filter(last_seen_at__gte=moment).exists()
    finally:
        connections.close_all()
    return beating, "none yet"


def _health(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            body = json.loads(response.read())
            return body.get("workers", 0) > 0, body
    except urllib.error.HTTPError as error:
        return False, f"{error.code} {error.read()[:200]!r}"
    except (OSError, ValueError) as error:
        return False, str(error)


def gunicorn_command(port):
    """The web server `make run` starts, on 127.0.0.1:`port` (tests start the same one)."""
    command = [sys.executable, "-m", "gunicorn", "core.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--config", "python:core.gunicorn_conf"]
    return command + ["--graceful-timeout", "10", "--timeout", "60", "--no-control-socket"]
