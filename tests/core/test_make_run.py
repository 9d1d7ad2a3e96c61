"""`make run` end to end: SQLite, no Redis configured, one worker, a demo run from the shell,
and Ctrl-C (SIGINT to the whole process group) stopping everything; a killed worker and a
killed private Redis come back by themselves while the web server keeps serving."""

import os
import signal
import threading
import time
import urllib.request

import pytest

from core.client import Brickwork
from tests.make_run import Up, port_open, running

pytestmark = pytest.mark.slow


@pytest.fixture
def up(tmp_path):
    with Up(tmp_path) as up:
        yield up


def test_up_serves_health_runs_the_demo_workflow_and_stops_on_sigint(up):
    # When `up` has started, /healthz answers 200 with exactly one worker
    health = up.wait_healthy()
    assert health == {"database": "ok", "broker": "ok", "workers": 1}
    redis_url = up.redis_url()
    redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    assert redis_url.startswith("redis://127.0.0.1:") and redis_port != 6379
    family = up.family()
    output = up.log()
    assert f"{up.url}/" in output and "Sign in as demo" in output

    # And a run of the demo workflow started from the shell succeeds
    started = up.manage("startrun", "--workspace", "demo", "welcome", "--wait", "60")
    assert started.returncode == 0, started.stdout + started.stderr
    assert "succeeded" in started.stdout

    # Then SIGINT to the group (Ctrl-C) stops everything, the private Redis included
    assert up.interrupt() == 0, up.log()
    assert "Stopped." in up.log()
    assert len(family) >= 3  # Redis, the worker, the web server, and their own workers
    assert [pid for pid in family if running(pid)] == []
    assert not port_open(redis_port)
    assert not port_open(up.port)
    assert not (up.state / "redis.url").exists()


# A slow-ish first step, so runs are in the middle of it when the worker dies.
SLOW = {
    "name": "Slow",
    "steps": [
        {
            "key": "work",
            "action": "debug.sleep",
            "input": {"ms": 2000},
            "retry": {"max_attempts": 5, "initial_interval_s": 0.5, "jitter": False},
        },
        {"key": "done", "action": "debug.echo", "input": {"n": "{{ input.n }}"}},
    ],
}
RUNS = 20


def test_a_killed_worker_and_redis_come_back_and_every_run_ends(up):
    up.wait_healthy()
    redis_url = up.redis_url()
    created = up.manage("createapikey", "--workspace", "demo", "--name", "test")
    assert created.returncode == 0, created.stderr
    brickwork = Brickwork(api_key=created.stdout.strip().splitlines()[-1], base_url=up.url)
    brickwork.workflow("slow").put(SLOW, publish=True)
    web = WebPoller(f"{up.url}/login/")
    web.start()
    try:
        # Given 20 runs of a workflow whose first step takes 2 s, on one worker of 8 threads
        runs = [brickwork.workflow("slow").run({"n": n}) for n in range(RUNS)]

        # When the worker is killed (its main process and its worker processes, SIGKILL)
        os.killpg(up.child("dramatiq"), signal.SIGKILL)
        # Then `up` says so and starts it again
        up.wait_for_output("worker exited (signal 9); restarting in 1 s")
        up.wait_for_output("worker restarted")

        # When the private Redis is killed too, with the runs' messages in it
        os.killpg(up.child("redis-server"), signal.SIGKILL)
        # Then it comes back on the same URL
        up.wait_for_output("redis exited (signal 9); restarting in 1 s")
        up.wait_for_output("redis restarted")
        assert up.redis_url() == redis_url

        # And every run started before the kills ends, succeeded: none lost, none stuck
        ended = _wait_all_ended(brickwork, [run.id for run in runs], timeout=180)
        assert ended == {run.id: "succeeded" for run in runs}, up.log()
        for run in runs:
            assert brickwork.run(run.id).output == {"n": run.input["n"]}
        # And /healthz is back to healthy, counting the new worker only
        assert up.wait_healthy() == {"database": "ok", "broker": "ok", "workers": 1}
    finally:
        web.stop()
    # And the web server answered every request throughout
    assert web.answers and web.failures == [], web.failures[:5]

    # When the web server itself is killed, it comes back on the same port
    os.killpg(up.child("gunicorn"), signal.SIGKILL)
    up.wait_for_output("web exited (signal 9); restarting in 1 s")
    up.wait_for_output("web restarted")
    assert up.wait_healthy()["workers"] == 1
    assert up.interrupt() == 0, up.log()


def _wait_all_ended(brickwork, ids, timeout):
    """{run id: status} once every run has ended; fails with the stragglers."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = {run.id: run.status for run in brickwork.runs(workflow="slow")}
        statuses = {run_id: statuses.get(run_id) for run_id in ids}
        if all(status in ("succeeded", "failed", "compensated", "cancelled")
               for status in statuses.values()):  # fmt: skip
            return statuses
        if time.monotonic() > deadline:
            pytest.fail(f"runs still open after {timeout}s: {statuses}")
        time.sleep(0.5)


class WebPoller(threading.Thread):
    """GETs `url` every 0.1 s until stopped, keeping every answer that is not a 200."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.answers, self.failures = url, 0, []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(0.1):
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    status = response.status
            except OSError as error:  # HTTPError included
                status = repr(error)
            self.answers += 1
            if status != 200:
                self.failures.append(status)

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)
