"""`manage.py scale`: fill a database with a year of history, then time what users open.

Prints the per-step and local-step throughput on the database as it was, fills it
(`--runs`, default 100,000, ~1,000,000 attempts, across `--workspaces`), prints the same
throughput again beside it, then the p95 of the pages, /metrics and a sweeper pass on a
big workspace, and the plan of the slowest statement. Figures, never assertions; see
docs/BENCHMARKS.md. PostgreSQL only (the fill is INSERT … SELECT generate_series).
"""

import json
import os
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from runner.bench import scale, scale_fill


class Command(BaseCommand):
    help = "Fill the database with a year of runs, then time pages, /metrics and the sweeper."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=100_000)
        parser.add_argument("--workspaces", type=int, default=10)
        parser.add_argument("--samples", type=int, default=20, help="requests per page")
        parser.add_argument("--no-fill", action="store_true", help="measure the database as is")
        parser.add_argument(
            "--no-throughput", action="store_true", help="skip the engine throughput rounds"
        )
        parser.add_argument("--json", action="store_true", help="print a JSON object last")

    def handle(self, *args, **opts):
        from django.db import connection

        if connection.vendor != "postgresql":
            raise CommandError("scale measures PostgreSQL (production's database)")
        progress = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
        figures = {}
        throughput = not opts["no_throughput"]
        if throughput and not opts["no_fill"]:  # (with --no-fill the database is not empty)
            figures["empty"] = _throughput(progress)
        if not opts["no_fill"]:
            began = time.monotonic()
            scale_fill.fill(opts["runs"], opts["workspaces"], progress)
            figures["fill_s"] = round(time.monotonic() - began, 1)
        figures["rows"] = scale_fill.counts()
        if throughput:
            figures["full"] = _throughput(progress)
        rows, plan = scale.measure("scale-1", opts["samples"], progress)
        figures["p95_ms"] = {name: round(p95, 1) for name, p95, _ in rows}
        print(_report(figures, rows, opts))
        print(plan)
        if opts["json"]:
            print(json.dumps(figures))


def _throughput(progress):
    """One round of the bench's two Brickwork contenders: steps/s per step and local."""
    if not settings.BROKER_URL.startswith(("redis", "unix")):
        raise CommandError("the throughput rounds need a redis:// BROKER_URL (see bench)")
    os.environ["BENCH_REDIS_URL"] = settings.BROKER_URL
    from runner.bench.suite import Suite

    opts = {
        "rounds": 1, "runs": 100, "steps": 20, "idle_samples": 3, "latency_runs": 20,
        "processes": 2, "threads": 4, "prepared": 1, "webhook_seconds": 0,
        "webhook_connections": 0, "timeline_attempts": 0,
        "worker_timeout_ms": int(os.environ.get("dramatiq_worker_timeout", 10)),  # noqa: SIM112
        "only": "brickwork_per_step,brickwork",
    }  # fmt: skip
    found = Suite(opts, progress=progress).run()
    return {
        "per_step_steps_per_s": found["brickwork_per_step_steps_per_s"],
        "local_steps_per_s": found["brickwork_steps_per_s"],
    }


def _report(figures, rows, opts):
    counted = figures["rows"]
    lines = [
        f"database: {counted['runner_run']:,} runs, {counted['runner_attempt']:,} attempts, "
        f"{counted['runner_runevent']:,} events, {counted['bytes'] / 1e9:.2f} GB"
        + (f" (filled in {figures['fill_s']} s)" if "fill_s" in figures else ""),
    ]
    if "empty" in figures:
        for key, label in (
            ("per_step_steps_per_s", "per-step steps/s"),
            ("local_steps_per_s", "local steps/s"),
        ):
            empty, full = figures["empty"][key], figures["full"][key]
            change = (full / empty - 1) * 100 if empty else 0
            lines.append(f"{label:<44} empty {empty:>8,.0f}   full {full:>8,.0f}   {change:+.0f} %")
    elif "full" in figures:
        for key, label in (
            ("per_step_steps_per_s", "per-step steps/s"),
            ("local_steps_per_s", "local steps/s"),
        ):
            lines.append(f"{label:<44} full {figures['full'][key]:>8,.0f}")
    lines.append(f"{'p95 of ' + str(opts['samples']) + ' requests':<44} {'ms':>8} {'queries':>8}")
    for name, p95, queries in rows:
        lines.append(f"{name:<44} {p95:>8.1f} {queries:>8}")
    if not scale.searchable():
        lines.append("run search by input field: not measured (the runs list has no search yet)")
    return "\n".join(lines)
