"""`manage.py bench`: Brickwork against raw Dramatiq and Celery, interleaved, same Redis.

Prints a line per round and contender while it runs, then the table of medians and
ranges, then (with --json) one JSON object as the last line. See docs/BENCHMARKS.md.
"""

import json
import logging
import os
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from runner.bench import stats


class Command(BaseCommand):
    help = "Measure Brickwork against raw Dramatiq and Celery; figures, never assertions."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--runs", type=int, default=100, help="pipelines/chains/runs at once")
        parser.add_argument("--steps", type=int, default=20)
        parser.add_argument("--idle-samples", type=int, default=5)
        parser.add_argument("--latency-runs", type=int, default=200)
        parser.add_argument("--processes", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument(
            "--worker-timeout-ms",
            type=int,
            default=int(os.environ.get("dramatiq_worker_timeout", 10)),  # noqa: SIM112 (its name)
            help="Dramatiq's idle poll ceiling, the same for both Dramatiq contenders",
        )
        parser.add_argument(
            "--prepared",
            type=int,
            choices=(0, 1),
            default=1,
            help="DATABASE_PREPARED for the workers and gunicorn (server-side prepared statements)",
        )
        parser.add_argument("--webhook-seconds", type=float, default=10)
        parser.add_argument("--webhook-connections", type=int, default=32)
        parser.add_argument("--timeline-attempts", type=int, default=1000)
        parser.add_argument(
            "--only",
            default="",
            help="comma-separated subset: dramatiq,celery,brickwork_per_step,brickwork_async_commit,brickwork,windmill40,webhook,timeline",
        )
        parser.add_argument("--json", action="store_true", help="print a JSON object last")

    def handle(self, *args, **opts):
        if not settings.BROKER_URL.startswith(("redis", "unix")):
            # Raw Dramatiq and Celery are measured on Redis; Brickwork on another broker
            # would not be measured against them on the same one.
            raise CommandError(
                "bench compares the contenders on one Redis broker: run it with "
                "BROKER_URL (or REDIS_URL alone) set to a redis:// URL"
            )
        os.environ["BENCH_REDIS_URL"] = settings.BROKER_URL
        logging.getLogger("runner").setLevel(logging.WARNING)  # the timeline run's own lines
        from runner.bench.suite import Suite

        began = time.monotonic()
        suite = Suite(opts, progress=lambda line: print(line, file=sys.stderr, flush=True))
        figures = suite.run()
        print(_machine_line(opts))
        print(stats.table(suite.rows()))
        for line in suite.notes:
            print(line)
        print(f"elapsed: {time.monotonic() - began:.0f} s")
        if opts["json"]:
            print(json.dumps(figures))


def _machine_line(opts):
    return (
        f"cpus={os.cpu_count()} rounds={opts['rounds']} runs={opts['runs']} "
        f"steps={opts['steps']} workers={opts['processes']}x{opts['threads']} "
        f"dramatiq_worker_timeout={opts['worker_timeout_ms']}ms DATABASE_PREPARED={opts['prepared']}"
    )
