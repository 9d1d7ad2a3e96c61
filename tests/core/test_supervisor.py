"""core/supervisor.py: a child that dies is restarted after a growing, capped delay that
starts over once the child has stayed up a while. Real processes; only the clock is ours."""

import os
import signal
import sys

from core.processes import Child
from core.supervisor import MAX_DELAY_S, STABLE_AFTER_S, Supervisor, restart_delay

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def kill(child):
    os.kill(child.pid, signal.SIGKILL)
    child.process.wait(timeout=5)


def test_restart_delay_doubles_up_to_the_cap():
    assert [restart_delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert restart_delay(50) == MAX_DELAY_S


def test_a_killed_child_comes_back_after_the_delay_and_is_said_so():
    # Given a supervised child
    said, clock = [], Clock()
    supervisor = Supervisor(say=said.append, clock=clock)
    child = supervisor.start(Child("worker", SLEEPER))
    first_pid = child.pid
    try:
        # When it is killed, it is announced with its signal and the delay
        kill(child)
        supervisor.check()
        assert said == ["worker exited (signal 9); restarting in 1 s"]
        # Then it is not started again before the delay is over
        clock.now += 0.5
        supervisor.check()
        assert not child.alive()
        # but is once it is
        clock.now += 0.5
        supervisor.check()
        assert child.alive() and child.pid != first_pid
        assert said[-1] == f"worker restarted (pid {child.pid})."

        # When it dies again at once, the delay doubles
        kill(child)
        supervisor.check()
        assert said[-1] == "worker exited (signal 9); restarting in 2 s"
        clock.now += 2
        supervisor.check()
        assert child.alive()

        # When it has stayed up long enough before dying, the delay starts over at 1 s
        clock.now += STABLE_AFTER_S
        kill(child)
        supervisor.check()
        assert said[-1] == "worker exited (signal 9); restarting in 1 s"
    finally:
        supervisor.stop()
    assert not child.alive()


class Recorded(Child):
    """A Child that notes, when it has stopped, which of its kind are still running."""

    def stop(self, timeout=20):
        code = super().stop(timeout)
        STOPPED.append((self.name, sorted(c.name for c in CHILDREN if c.alive())))
        return code


STOPPED, CHILDREN = [], []


def test_stop_ends_every_child_redis_last_even_one_waiting_to_restart():
    # Given Redis, a web server, and a worker that exited and waits to be restarted
    said = []
    supervisor = Supervisor(say=said.append, clock=Clock())
    redis = supervisor.start(Recorded("redis", SLEEPER), stopped_last=True)
    web = supervisor.start(Recorded("web", SLEEPER))
    worker = supervisor.start(Recorded("worker", [sys.executable, "-c", "raise SystemExit(3)"]))
    CHILDREN[:] = [redis, web, worker]
    worker.process.wait(timeout=10)
    supervisor.check()
    assert said == ["worker exited (code 3); restarting in 1 s"]
    # When the supervisor stops
    supervisor.stop()
    # Then all are stopped, Redis after the others, which were stopped while it ran
    assert sorted(name for name, _ in STOPPED[:2]) == ["web", "worker"]
    assert all("redis" in running for _, running in STOPPED[:2])
    assert STOPPED[2] == ("redis", [])
    assert not redis.alive() and not web.alive() and not worker.alive()
