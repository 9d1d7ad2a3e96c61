"""`manage.py worker`: the Dramatiq worker for this project, with its broker and actors."""

import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start Dramatiq worker processes that execute attempts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--processes", type=int, default=int(os.environ.get("WORKER_PROCESSES", 2))
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WORKER_THREADS", 8)))

    def handle(self, *args, processes, threads, **options):
        # Dramatiq's Redis consumer sleeps up to this many ms when its queue is empty
        # (default 1,000): 10 ms makes an idle system answer a new run within ~10 ms for
        # ~200 cheap Redis polls/s per process. See docs/BENCHMARKS.md.
        os.environ.setdefault("dramatiq_worker_timeout", "10")
        # Replace this process with the dramatiq CLI so signals reach it directly.
        os.execvp(
            sys.executable,
            [
                sys.executable,
                "-m",
                "dramatiq",
                "runner.worker:broker",
                "--processes",
                str(processes),
                "--threads",
                str(threads),
            ],
        )
