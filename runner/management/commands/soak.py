"""`manage.py soak`: bounded fault injection on loopback; prints lost/stuck/duplicated counts."""

import json

from django.core.management.base import BaseCommand

from runner.soak.run import Options, soak


class Command(BaseCommand):
    help = "Submit runs while killing workers, restarting Redis and dropping DB sessions."

    def add_arguments(self, parser):
        defaults = Options()
        parser.add_argument("--duration", type=float, default=defaults.duration)
        parser.add_argument("--workers", type=int, default=defaults.workers)
        parser.add_argument("--threads", type=int, default=defaults.threads)
        parser.add_argument("--rate", type=float, default=defaults.rate, help="runs per second")
        parser.add_argument("--kill-every", type=float, default=defaults.kill_every)
        parser.add_argument("--settle", type=float, default=defaults.settle)
        parser.add_argument(
            "--no-faults",
            action="store_true",
            help="steady traffic only, and print the workers' resident memory at start and end",
        )
        parser.add_argument("--json", action="store_true", help="print a JSON object last")

    def handle(self, *args, **opts):
        options = Options(
            duration=opts["duration"],
            workers=opts["workers"],
            threads=opts["threads"],
            rate=opts["rate"],
            kill_every=opts["kill_every"],
            settle=opts["settle"],
            faults=not opts["no_faults"],
        )
        result = soak(options, progress=lambda line: self.stderr.write(line))
        for key in ("submitted", "ended", "lost", "stuck", "duplicated_transitions"):
            self.stdout.write(f"{key:<24} {result[key]}")
        for key in ("submit_errors", "unexpected_outcomes", "retried_steps", "faults"):
            self.stdout.write(f"{key:<24} {result[key]}")
        for key in ("worker_rss_start_mib", "worker_rss_end_mib", "worker_rss_growth_pct"):
            if key in result:
                self.stdout.write(f"{key:<24} {result[key]}")
        ok = result["lost"] == 0 and result["stuck"] == 0 and result["duplicated_transitions"] == 0
        self.stdout.write("verdict                  " + ("OK" if ok else "PROBLEMS FOUND"))
        if opts["json"]:
            self.stdout.write(json.dumps(result))
