"""`make run` end to end: SQLite, no Redis configured, one worker, a demo run from the shell.

`make run` is the install step followed by `manage.py up`; this test starts `manage.py up`
with the project's Python, as `make run` does once installed, in its own process group,
and stops it the way Ctrl-C does: SIGINT to the whole group.
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

pytestmark = pytest.mark.slow

# What tests/settings.py puts into the environment, and a configured Redis: none of it
# may reach `up`, which must run on its own defaults.
NOT_INHERITED = {
    "REDIS_URL",
    "BROKER_URL",
    "TEST_REDIS_URL",
    "SWEEP_INTERVAL_S",
    "WORKER_DEAD_AFTER_S",
    "dramatiq_worker_timeout",
}


def test_up_serves_health_runs_the_demo_workflow_and_stops_on_sigint(tmp_path):
    # Given a fresh SQLite database, no Redis configured and a free port
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "core.settings",
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    state = tmp_path / "state"
    log_path = tmp_path / "up.log"
    with open(log_path, "wb") as log:
        up = subprocess.Popen(
            [sys.executable, "manage.py", "up", "--state-dir", str(state)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    family = []
    try:
        # When `up` has started, /healthz answers 200 with exactly one worker
        health = _wait_for_health(port, up, log_path)
        assert health == {"database": "ok", "broker": "ok", "workers": 1}
        redis_url = (state / "redis.url").read_text().strip()
        redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        assert redis_url.startswith("redis://127.0.0.1:") and redis_port != 6379
        family = _descendants(up.pid)
        output = log_path.read_text()
        assert f"http://127.0.0.1:{port}/" in output and "Sign in as demo" in output

        # And a run of the demo workflow started from the shell succeeds
        started = subprocess.run(
            [sys.executable, "manage.py", "startrun", "--workspace", "demo", "welcome"]
            + ["--wait", "60"],
            cwd=ROOT,
            env={**env, "REDIS_URL": redis_url},
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert started.returncode == 0, started.stdout + started.stderr
        assert "succeeded" in started.stdout

        # Then SIGINT to the group (Ctrl-C) stops everything, the private Redis included
        os.killpg(up.pid, signal.SIGINT)
        assert up.wait(timeout=60) == 0, log_path.read_text()
        assert "Stopped." in log_path.read_text()
        assert len(family) >= 3  # Redis, the worker, the web server, and their own workers
        assert [pid for pid in family if _running(pid)] == []
        assert not _port_open(redis_port)
        assert not _port_open(port)
        assert not (state / "redis.url").exists()
    finally:
        _kill_leftovers(up, family)


def _wait_for_health(port, up, log_path, timeout=120):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if up.poll() is not None:
            pytest.fail(f"`up` exited with {up.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return json.loads(response.read())
        except (OSError, urllib.error.HTTPError) as error:
            last = error
        time.sleep(0.25)
    pytest.fail(f"no healthy answer within {timeout}s ({last}):\n{log_path.read_text()}")


def _descendants(pid):
    """Every process below `pid`, children first."""
    found = []
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    for child in map(int, out.split()):
        found.append(child)
        found.extend(_descendants(child))
    return found


def _running(pid):
    """Alive and not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _port_open(port):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _kill_leftovers(up, family):
    """After a failure: nothing this test started may outlive it."""
    if up.poll() is None:
        os.killpg(up.pid, signal.SIGKILL)
    for pid in family:
        if _running(pid):
            os.kill(pid, signal.SIGKILL)
    up.wait(timeout=10)
