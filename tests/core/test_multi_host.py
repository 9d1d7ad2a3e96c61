"""README's "Running across several machines", as written: a web process (gunicorn) and a
worker process given only the variables that section names (DATABASE_URL, SECRET_KEY and
the broker settings: REDIS_URL alone, or BROKER_URL=amqp:// with a shared REDIS_URL), and
a workflow run through the API to `succeeded`.

Nothing of tests/settings.py reaches them: no DJANGO_SETTINGS_MODULE, no test timings.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests import servers
from tests.api import ECHO_WORKFLOW

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BROKERS = {
    "redis": {"REDIS_URL": REDIS_URL},
    "rabbitmq": {"BROKER_URL": RABBITMQ_URL, "REDIS_URL": REDIS_URL},
}


@pytest.mark.parametrize("broker", BROKERS)
def test_web_and_worker_hosts_configured_as_the_readme_says_run_a_workflow(
    broker, workspace, _worker_process, tmp_path
):
    from core.client import Brickwork
    from core.models import ApiKey, WorkerHeartbeat

    # Given the suite's own worker stopped, so that only the hosts below can do the work
    _worker_process.stop()
    # and a web process and a worker process with only the README's variables
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": servers.test_database_url(),
        "SECRET_KEY": "multi-host-test-key-shared-by-every-host",
        **BROKERS[broker],
    }
    port = servers.free_port()
    bin_dir = Path(sys.executable).parent
    web = _start(
        [str(bin_dir / "gunicorn"), "core.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--threads", "4"],
        env,
        tmp_path / "web.log",
    )
    worker = _start(
        [sys.executable, "manage.py", "worker", "--processes", "1", "--threads", "4"],
        env,
        tmp_path / "worker.log",
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        # When /healthz reports database, broker and a worker, and a client of the API
        # imports a workflow and runs it
        _wait_healthy(base_url, tmp_path)
        key = ApiKey.issue(workspace, "hosts")[1]
        brickwork = Brickwork(api_key=key, base_url=base_url)
        brickwork.workflow("echo").put(ECHO_WORKFLOW, publish=True)
        run = brickwork.workflow("echo").run({"n": 7})
        run.wait(timeout=30)
        # Then it succeeded, every attempt run by the worker host started here
        assert run.status == "succeeded", (run.status, run.error)
        assert run.output == {"m": 7}
        workers = set(WorkerHeartbeat.objects.values_list("worker", flat=True))
        assert workers, "the worker host recorded no heartbeat"
        attempts = [attempt for step in run.steps for attempt in step["attempts"]]
        assert attempts and {attempt["worker"] for attempt in attempts} <= workers
    finally:
        for process in (worker, web):
            _stop(process)


def _start(command, env, log_path):
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command,
            cwd=servers.ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_healthy(base_url, tmp_path, timeout=60):
    deadline = time.time() + timeout
    answer = None
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2):
                return
        except urllib.error.HTTPError as error:
            answer = error.read().decode()
        except OSError as error:
            answer = repr(error)
        time.sleep(0.3)
    logs = {name: (tmp_path / name).read_text()[-2000:] for name in ("web.log", "worker.log")}
    raise AssertionError(f"/healthz never answered 200: {answer}; logs: {logs}")


def _stop(process):
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
