"""The bench's rounds: every contender in turn, A B C A B C …, with the same workers and Redis."""

import os
import time
from collections import defaultdict

from runner.bench import celery_chain, stats

# Before each idle sample: long enough for every contender's polling to back off fully.
IDLE_PAUSE_S = 0.3


class Suite:
    def __init__(self, opts, progress):
        self.opts = opts
        self.progress = progress
        self.values = defaultdict(list)  # figure -> one value per round
        self.notes = []

    def run(self):
        o = self.opts
        env = {"BENCH_REDIS_URL": os.environ["BENCH_REDIS_URL"]}
        env["dramatiq_worker_timeout"] = str(o["worker_timeout_ms"])
        env["DATABASE_PREPARED"] = "1" if o["prepared"] else "0"
        self.env = env
        size = {"processes": o["processes"], "threads": o["threads"], "env": env}
        from runner.bench.brickwork import Brickwork
        from runner.bench.dramatiq_raw import RawDramatiq

        contenders = [RawDramatiq(**size)]
        if celery_chain.available():
            contenders.append(celery_chain.CeleryChains(**size))
        else:
            self.notes.append(celery_chain.SKIPPED)
            self.progress(celery_chain.SKIPPED)
        contenders.append(Brickwork(**size, steps=o["steps"]))
        contenders.append(Brickwork(**size, steps=o["steps"], local=True))
        contenders.append(Brickwork(**size, steps=o["steps"], async_commit=True))
        only = {name for name in o["only"].split(",") if name}
        if only:
            contenders = [c for c in contenders if c.name in only]
        extras = [(name, measure) for name, measure in self._extras() if not only or name in only]
        for number in range(1, o["rounds"] + 1):
            for contender in contenders:
                self._measure(number, contender)
            for name, measure in extras:
                figures = measure()
                for key, value in figures.items():
                    self.values[key].append(value)
                self.progress(f"round {number}/{o['rounds']} {name}: {_brief(figures)}")
            self._ratios()
        return self.figures()

    def _measure(self, number, contender):
        o, name = self.opts, contender.name
        contender.start()
        try:
            steps_per_s = contender.throughput(o["runs"], o["steps"])
            idle = stats.median([_idle(contender, o["steps"]) for _ in range(o["idle_samples"])])
            self.values[f"{name}_steps_per_s"].append(steps_per_s)
            self.values[f"{name}_idle_{o['steps']}_ms"].append(idle)
            line = f"{steps_per_s:,.0f} steps/s, one {o['steps']}-step idle {idle:.0f} ms"
            if name in ("brickwork_per_step", "brickwork_async_commit"):
                prefix = "per_step" if name == "brickwork_per_step" else "async_commit"
                p50, p99 = contender.step_overhead()
                self.values[f"{prefix}_overhead_p50_ms"].append(p50)
                self.values[f"{prefix}_overhead_p99_ms"].append(p99)
                line += f", step start -> next start p50 {p50:.1f} ms p99 {p99:.1f} ms"
            if name == "brickwork_per_step":
                p50, p99 = contender.start_latency(o["latency_runs"])
                self.values["start_latency_p50_ms"].append(p50)
                self.values["start_latency_p99_ms"].append(p99)
                line += f", start latency p50 {p50:.1f} ms p99 {p99:.1f} ms"
        finally:
            contender.stop()
        self.progress(f"round {number}/{o['rounds']} {name}: {line}")

    def _ratios(self):
        """Ratios within the round just measured: noise common to the round cancels out."""
        own = self.values.get("brickwork_steps_per_s")
        for other in ("dramatiq", "celery"):
            theirs = self.values.get(f"{other}_steps_per_s")
            if own:
                self.values[f"ratio_vs_{other}"].append(
                    stats.ratio(own[-1], theirs[-1] if theirs else None)
                )
        for contender, prefix in (
            ("brickwork_per_step", "per_step"),
            ("brickwork_async_commit", "async_commit"),
        ):
            own = self.values.get(f"{contender}_steps_per_s")
            for other in ("dramatiq", "celery"):
                theirs = self.values.get(f"{other}_steps_per_s")
                if own:
                    self.values[f"{prefix}_ratio_vs_{other}"].append(
                        stats.ratio(own[-1], theirs[-1] if theirs else None)
                    )

    def _extras(self):
        """Windmill's 40-step shape, webhook ingest and timeline rendering, when the parts
        they measure exist."""
        from runner.bench import timeline, webhook, windmill

        extras = []
        for module, kwargs in (
            (windmill, {"env": self.env}),
            (
                webhook,
                {
                    "seconds": self.opts["webhook_seconds"],
                    "connections": self.opts["webhook_connections"],
                    "processes": self.opts["processes"],
                    "threads": self.opts["threads"],
                    "env": self.env,
                },
            ),
            (timeline, {"attempts": self.opts["timeline_attempts"]}),
        ):
            missing = module.missing()
            if missing:
                self.notes.append(missing)
                self.progress(missing)
            else:
                extras.append(
                    (module.NAME, lambda module=module, kwargs=kwargs: module.measure(**kwargs))
                )
        return extras

    def rows(self):
        """The per-step path first (what real actions get); local steps as their own line."""
        s = self.opts["steps"]
        labels = [
            ("dramatiq_steps_per_s", f"raw Dramatiq: {s}-step pipelines", "steps/s"),
            ("celery_steps_per_s", f"Celery: {s}-task chains", "steps/s"),
            (
                "brickwork_per_step_steps_per_s",
                f"Brickwork: {s}-step runs of a real action, recorded",
                "steps/s",
            ),
            ("per_step_ratio_vs_dramatiq", "Brickwork / raw Dramatiq", "x"),
            ("per_step_ratio_vs_celery", "Brickwork / Celery", "x"),
            (f"dramatiq_idle_{s}_ms", f"raw Dramatiq: one {s}-step pipeline, idle", "ms"),
            (f"celery_idle_{s}_ms", f"Celery: one {s}-task chain, idle", "ms"),
            (f"brickwork_per_step_idle_{s}_ms", f"Brickwork: one {s}-step run, idle", "ms"),
            ("per_step_overhead_p50_ms", "Brickwork: step start -> next step start p50", "ms"),
            ("per_step_overhead_p99_ms", "Brickwork: step start -> next step start p99", "ms"),
            ("windmill40_s", "Brickwork: 40 sequential fib(10) steps, 1 worker", "s"),
            ("start_latency_p50_ms", "Brickwork: trigger -> first attempt p50", "ms"),
            ("start_latency_p99_ms", "Brickwork: trigger -> first attempt p99", "ms"),
            (
                "brickwork_async_commit_steps_per_s",
                "the same, ASYNC_STEP_COMMIT (no wait for the WAL flush)",
                "steps/s",
            ),
            ("async_commit_ratio_vs_dramatiq", "ASYNC_STEP_COMMIT / raw Dramatiq", "x"),
            (
                f"brickwork_async_commit_idle_{s}_ms",
                f"ASYNC_STEP_COMMIT: one {s}-step run, idle",
                "ms",
            ),
            ("async_commit_overhead_p50_ms", "ASYNC_STEP_COMMIT: step -> next step p50", "ms"),
            ("async_commit_overhead_p99_ms", "ASYNC_STEP_COMMIT: step -> next step p99", "ms"),
            ("brickwork_steps_per_s", f"local steps (pure, inline): {s}-step runs", "steps/s"),
            ("ratio_vs_dramatiq", "local steps / raw Dramatiq", "x"),
            ("ratio_vs_celery", "local steps / Celery", "x"),
            (f"brickwork_idle_{s}_ms", f"local steps: one {s}-step run, idle", "ms"),
            ("webhook_accepted_per_s", "webhook ingest: accepted", "req/s"),
            ("webhook_p50_ms", "webhook ingest: latency p50", "ms"),
            ("webhook_p99_ms", "webhook ingest: latency p99", "ms"),
            ("webhook_lost", "webhook ingest: 202s without a run", "runs"),
            ("timeline_1000_ms", "run page, 1,000 attempts: server time", "ms"),
            ("timeline_partial_1000_ms", "timeline partial, 1,000 attempts", "ms"),
            ("timeline_1000_queries", "run page, 1,000 attempts: queries", "queries"),
            ("timeline_10_queries", "run page, 10 attempts: queries", "queries"),
        ]
        return [(label, self.values.get(key, []), unit) for key, label, unit in labels]

    def figures(self):
        s = self.opts["steps"]
        keys = [
            "dramatiq_steps_per_s",
            "celery_steps_per_s",
            "brickwork_steps_per_s",
            "ratio_vs_dramatiq",
            "ratio_vs_celery",
            "brickwork_per_step_steps_per_s",
            "per_step_ratio_vs_dramatiq",
            "per_step_ratio_vs_celery",
            "per_step_overhead_p50_ms",
            "per_step_overhead_p99_ms",
            "windmill40_s",
            f"dramatiq_idle_{s}_ms",
            f"celery_idle_{s}_ms",
            f"brickwork_idle_{s}_ms",
            f"brickwork_per_step_idle_{s}_ms",
            "start_latency_p50_ms",
            "start_latency_p99_ms",
            "webhook_accepted_per_s",
            "webhook_p50_ms",
            "webhook_p99_ms",
            "webhook_lost",
            "timeline_1000_ms",
            "timeline_partial_1000_ms",
            "timeline_1000_queries",
            "timeline_10_queries",
            "brickwork_async_commit_steps_per_s",
            "async_commit_ratio_vs_dramatiq",
            f"brickwork_async_commit_idle_{s}_ms",
            "async_commit_overhead_p50_ms",
            "async_commit_overhead_p99_ms",
        ]
        figures = {key: _rounded(stats.median(self.values.get(key, []))) for key in keys}
        if s != 20:  # the documented keys name the 20-step figures
            for name in (
                "dramatiq",
                "celery",
                "brickwork",
                "brickwork_per_step",
                "brickwork_async_commit",
            ):
                figures[f"{name}_idle_20_ms"] = None
        if self.values.get("webhook_lost"):
            figures["webhook_lost"] = max(self.values["webhook_lost"])
        return figures


def _idle(contender, steps):
    time.sleep(IDLE_PAUSE_S)
    return contender.idle(steps)


def _rounded(value):
    return round(value, 2) if isinstance(value, float) else value


def _brief(figures):
    return ", ".join(f"{key} {stats.fmt(value)}" for key, value in figures.items())
