"""Worker memory over a soak: the resident set of each worker's process group, sampled.

A worker that leaks grows a little with every run; over ten minutes of steady traffic
that shows as an end well above the start. The start is taken after a warm-up (imports,
caches and connection pools fill in the first seconds), so growth means a leak, not
start-up.
"""

import os
from dataclasses import dataclass, field

WARM_UP_SHARE = 0.1  # the first tenth of the traffic (at least 10 s) fills caches


def group_rss_kib(pgid):
    """The summed resident set of every live process in process group `pgid`, in KiB."""
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # fields after the name: state, ppid, pgrp, …
                continue
            with open(f"/proc/{name}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        except (OSError, StopIteration, ValueError, IndexError):
            continue  # the process ended while being read
    return total


@dataclass
class MemoryWatch:
    """Samples the pool's workers every `every` seconds while the soak's traffic flows."""

    duration: float
    every: float = 10.0
    samples: list = field(default_factory=list)  # (seconds since start, MiB of all workers)

    def sample(self, elapsed, pool):
        kib = sum(group_rss_kib(worker.process.pid) for worker in pool.workers if worker.alive())
        self.samples.append((round(elapsed, 1), round(kib / 1024, 1)))
        return self.samples[-1]

    def due(self, elapsed):
        return not self.samples or elapsed - self.samples[-1][0] >= self.every

    def report(self):
        warm = max(10.0, self.duration * WARM_UP_SHARE)
        after_warm_up = [mib for at, mib in self.samples if at >= warm] or [
            mib for _, mib in self.samples
        ]
        if not after_warm_up:
            return {}
        start, end = after_warm_up[0], after_warm_up[-1]
        return {
            "worker_rss_start_mib": start,
            "worker_rss_end_mib": end,
            "worker_rss_max_mib": max(after_warm_up),
            "worker_rss_growth_pct": round((end - start) / start * 100, 1) if start else None,
            "worker_rss_samples": self.samples,
        }
