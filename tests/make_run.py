"""`make run` for tests: `manage.py up` started the README's way, in its own process group.

`make run` is the install step followed by `manage.py up`; `Up` starts `manage.py up` with
the project's Python on a fresh SQLite file and no Redis configured (so it starts its
private one), on a free port, and stops it as Ctrl-C does: SIGINT to the whole group.
The SQLite file is the only thing set beyond `make run`'s defaults: DATABASE_URL points it
into the test's temporary directory instead of the checkout's db.sqlite3.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.servers import ROOT, free_port

# What tests/settings.py puts into the environment, and a configured Redis and database:
# none of it may reach `up`, which must run on its own defaults.
NOT_INHERITED = {
    "REDIS_URL",
    "BROKER_URL",
    "TEST_REDIS_URL",
    "DATABASE_URL",
    "SWEEP_INTERVAL_S",
    "WORKER_DEAD_AFTER_S",
    "dramatiq_worker_timeout",
}


class Up:
    """One `manage.py up` in `directory` (its database, state dir and log live there).

    `with Up(directory) as up:` starts it (call `up.wait_healthy()`) and, on the way out,
    kills whatever of it is still running.
    """

    def __init__(self, directory):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = directory / "state"
        self.log_path = directory / "up.log"
        self.env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
        self.env |= {
            "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "core.settings",
            "PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
        }
        self.process = None
        self.seen = set()  # every pid ever below `up`, for the clean-up

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill_leftovers()

    def start(self):
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "up", "--state-dir", str(self.state)],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def log(self):
        return self.log_path.read_text()

    def health(self, timeout=2):
        """/healthz's body (200 or 503); an OSError when the server does not answer."""
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read())

    def wait_healthy(self, timeout=120):
        """Until /healthz answers 200 with a live worker; returns its body."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"`up` exited with {self.process.returncode}:\n{self.log()}")
            try:
                last = self.health()
                if last["database"] == last["broker"] == "ok" and last["workers"] > 0:
                    return last
            except OSError as error:
                last = error
            time.sleep(0.25)
        pytest.fail(f"no healthy answer within {timeout}s ({last}):\n{self.log()}")

    def wait_for_output(self, text, count=1, timeout=60):
        """Until `text` has appeared `count` times in up's output."""
        deadline = time.monotonic() + timeout
        while self.log().count(text) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} never appeared {count} time(s):\n{self.log()}")
            time.sleep(0.1)

    def redis_url(self):
        return (self.state / "redis.url").read_text().strip()

    def manage(self, *command, timeout=90):
        """`manage.py <command>` on up's database and Redis; the completed process."""
        return subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env={**self.env, "REDIS_URL": self.redis_url()},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def child(self, marker):
        """The pid of up's direct child whose command line contains `marker`."""
        for pid in _children(self.process.pid):
            if marker in _cmdline(pid):
                return pid
        raise AssertionError(f"no child of `up` runs {marker!r}")

    def family(self):
        """Every process below `up`, children first (remembered for the clean-up)."""
        found = _descendants(self.process.pid)
        self.seen.update(found)
        return found

    def interrupt(self, timeout=60):
        """SIGINT to the whole group, as Ctrl-C in the terminal does; returns the exit code."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def kill_leftovers(self):
        """After the test (or its failure): nothing this `up` started may outlive it."""
        if self.process is None:
            return
        self.family()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid in self.seen:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def _children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(child) for child in out.split()]


def _descendants(pid):
    found = []
    for child in _children(pid):
        found.append(child)
        found.extend(_descendants(child))
    return found


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def running(pid):
    """Alive and not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def port_open(port):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
