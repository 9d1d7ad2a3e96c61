"""The soak's memory watch reads real resident sets and reports growth after warm-up."""

import os
import subprocess
import sys

from runner.soak.memory import MemoryWatch, group_rss_kib


def test_a_process_groups_resident_set_includes_every_member():
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; b = bytearray(64 << 20); time.sleep(30)"],
        start_new_session=True,
        stdin=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            if group_rss_kib(child.pid) > 60 * 1024:
                break
            subprocess.run(["sleep", "0.05"])
        assert group_rss_kib(child.pid) > 60 * 1024  # the 64 MiB the child holds
        assert group_rss_kib(os.getpgid(0)) > 0
    finally:
        child.kill()
        child.wait()


def test_growth_is_measured_from_the_first_sample_after_warm_up():
    watch = MemoryWatch(duration=600)
    watch.samples = [(0, 50.0), (30, 100.0), (60, 101.0), (590, 102.0)]
    report = watch.report()
    assert report["worker_rss_start_mib"] == 101.0  # warm-up is 60 s of 600
    assert report["worker_rss_end_mib"] == 102.0
    assert report["worker_rss_growth_pct"] == 1.0
