"""Webhook ingest: bounded load on loopback against `POST /hooks/<token>` under gunicorn.

An asyncio client keeps `connections` HTTP/1.1 connections busy for `seconds`, reconnecting
when the server closes one, and records each request's latency. Every 202 names its run;
afterwards the runs are counted in the database, so `webhook_lost` proves none went missing.
The runs are deleted again (no worker runs them during the bench).
"""

import asyncio
import json
import threading
import time

from runner.bench.processes import Child, free_port, wait_until
from runner.bench.stats import percentile

NAME = "webhook"
BODY = json.dumps({"event": "bench", "email": "ada@example.com"}).encode()


def missing():
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("webhook", args=["x"])
    except NoReverseMatch:
        return "webhook: skipped (POST /hooks/<token> is not built yet)"
    return None


def measure(seconds, connections, processes, threads, env):
    from runner.models import Run

    token = _trigger_token()
    port = free_port()
    server = Child(
        "bench-gunicorn",
        ["-m", "gunicorn", "core.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        # As every web host runs (core/gunicorn_conf.py: gthread, a listening socket per
        # process), with the bench's processes x threads.
        + ["--config", "python:core.gunicorn_conf"]
        + ["--workers", str(processes), "--threads", str(threads), "--log-level", "warning"],
        env=env,
    )
    with server:
        wait_until(lambda: _ready(port) or not server.alive(), 30, 0.1, "gunicorn answering")
        if not server.alive():
            raise RuntimeError(f"gunicorn exited; see {server.log_path}")
        _, warm_ids, _ = _load(port, token, 1, connections)  # warm every worker
        latencies, run_ids, refused = _load(port, token, seconds, connections)
    found = Run.objects.filter(id__in=run_ids, trigger="webhook").count()
    Run.objects.filter(id__in=run_ids + warm_ids).delete()
    return {
        "webhook_accepted_per_s": len(run_ids) / seconds,
        "webhook_p50_ms": percentile(latencies, 50) if latencies else None,
        "webhook_p99_ms": percentile(latencies, 99) if latencies else None,
        "webhook_lost": len(run_ids) - found,
        "webhook_refused": refused,
    }


def _trigger_token():
    from builder.definition import validate
    from builder.models import Trigger, Workflow
    from core.models import Workspace
    from runner.bench.brickwork import WORKSPACE_SLUG

    workspace, _ = Workspace.objects.get_or_create(
        slug=WORKSPACE_SLUG, defaults={"name": "Benchmark"}
    )
    workflow, _ = Workflow.objects.get_or_create(
        workspace=workspace, slug="webhook", defaults={"name": "Webhook ingest"}
    )
    if workflow.latest_version() is None:
        steps = [{"key": "greet", "action": "debug.echo", "input": {"who": "{{ input.email }}"}}]
        workflow.publish(validate({"name": workflow.name, "steps": steps}, workspace))
    trigger = workflow.triggers.first() or Trigger.objects.create(
        workflow=workflow, token=Trigger.new_token(), input_mode=Trigger.InputMode.BODY
    )
    return trigger.token


def _ready(port):
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
            return True
    except OSError as error:
        return getattr(error, "code", None) == 503  # answering, just no worker running


def _load(port, token, seconds, connections):
    """The load runs in a thread of its own, with its own event loop: the caller's thread
    may already run one (the bench's smoke test runs in a suite that drives Playwright)."""
    done = {}

    def drive():
        try:
            done["figures"] = asyncio.run(_drive(port, token, seconds, connections))
        except BaseException as error:  # handed back to the caller's thread
            done["error"] = error

    thread = threading.Thread(target=drive, name="bench-webhook-load")
    thread.start()
    thread.join()
    if "error" in done:
        raise done["error"]
    return done["figures"]


async def _drive(port, token, seconds, connections):
    request = (
        f"POST /hooks/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    stop_at = time.perf_counter() + seconds
    latencies, run_ids, refused = [], [], [0]

    async def connection():
        reader = writer = None
        while time.perf_counter() < stop_at:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            began = time.perf_counter()
            writer.write(request)
            status, headers, body = await _response(reader)
            if status == 202:
                latencies.append((time.perf_counter() - began) * 1000)
                run_ids.append(json.loads(body)["run"])
            else:
                refused[0] += 1
            if headers.get("connection", "").lower() == "close":
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return latencies, run_ids, refused[0]


async def _response(reader):
    # The head in one read, not a read per line: the client shares the server's 2 cores.
    status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
    status = int(status_line.split()[1])
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", 0)))
    return status, headers, body
