"""`manage.py bench_retention`: step throughput while retention deletes a million attempts.

1. fills a workspace of its own with old finished runs (about `--attempts` attempts);
2. starts the workers (`--processes` x `--threads`, their sweepers included);
3. baseline rounds: the policy keeps every old run; `--runs` runs of `--steps` echo steps
   at once, steps/s from the rows the workers wrote;
4. pruning rounds: the policy lets the old runs go, and the workers' sweepers delete them
   (as in production: batches of 100 runs, a quarter of a second per pass) while the
   same rounds run, until none is left or `--max-seconds` passed;
5. as many baseline rounds again, then the medians, the ratio, and how fast the pruning went.
Figures, never assertions; see docs/BENCHMARKS.md.
"""

import json
import time

from django.core.management.base import BaseCommand

from runner.bench import retention, stats
from runner.bench.brickwork import Brickwork


class Command(BaseCommand):
    help = "Measure step throughput with and without retention pruning at the same time."

    def add_arguments(self, parser):
        parser.add_argument("--attempts", type=int, default=1_000_000)
        parser.add_argument("--runs", type=int, default=100, help="runs started at once")
        parser.add_argument("--steps", type=int, default=20)
        parser.add_argument("--baseline-rounds", type=int, default=3)
        parser.add_argument("--max-seconds", type=float, default=1200)
        parser.add_argument("--processes", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, attempts, runs, steps, baseline_rounds, max_seconds, **options):
        target = retention.workspace()
        retention.keep_everything(target)
        took = retention.fill(target, attempts)
        stored = retention.stored_attempts(target)
        self._say(f"history: {stored:,} attempts stored (filled in {took:.1f} s)")
        contender = Brickwork(
            processes=options["processes"], threads=options["threads"], env={}, steps=steps
        )
        contender.start()
        try:
            baseline = [
                self._baseline(contender, runs, steps, target) for _ in range(baseline_rounds)
            ]
            retention.let_go(target)
            pruning, started = [], time.monotonic()
            while time.monotonic() - started < max_seconds:
                pruning.append(self._round(contender, runs, steps, "pruning"))
                left = retention.stored_attempts(target)
                self._say(f"  {stored - left:,} attempts pruned so far, {left:,} left")
                if not left:
                    break
            prune_s = time.monotonic() - started
            pruned = stored - retention.stored_attempts(target)
            retention.keep_everything(target)
            baseline += [
                self._baseline(contender, runs, steps, target) for _ in range(baseline_rounds)
            ]
        finally:
            contender.stop()
        report = {
            "attempts_stored": stored,
            "attempts_pruned": pruned,
            "prune_seconds": round(prune_s, 1),
            "pruned_per_second": round(pruned / prune_s) if prune_s else 0,
            "baseline_steps_per_s": [round(x) for x in baseline],
            "pruning_steps_per_s": [round(x) for x in pruning],
            "baseline_median": round(stats.median(baseline)),
            "pruning_median": round(stats.median(pruning)),
        }
        report["change_pct"] = round(
            100 * (report["pruning_median"] / report["baseline_median"] - 1), 1
        )
        self._say(
            f"steps/s: baseline median {report['baseline_median']} "
            f"({min(baseline):.0f}-{max(baseline):.0f}), while pruning median "
            f"{report['pruning_median']} ({min(pruning):.0f}-{max(pruning):.0f}): "
            f"{report['change_pct']:+.1f}%; pruned {pruned:,} attempts in {prune_s:.0f} s"
        )
        if options["json"]:
            self.stdout.write(json.dumps(report))

    def _round(self, contender, runs, steps, label):
        figure = contender.throughput(runs, steps)
        self._say(f"{label}: {figure:.0f} steps/s")
        return figure

    def _baseline(self, contender, runs, steps, target):
        figure = self._round(contender, runs, steps, "baseline")
        retention.stored_attempts(target)  # the same reads as a pruning round makes
        return figure

    def _say(self, text):
        self.stderr.write(text)
