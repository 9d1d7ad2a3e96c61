"""Concurrency and rate limits, proved with real workers on the timestamps they record.

An action's limits hold across worker processes (Redis: GCRA for the rate, leases for
concurrency); a workflow's `concurrency` key and `max_concurrent_runs` hold runs back in
`queued`, in order; a held step waits without a worker and says why in its history.
"""

import time
from datetime import timedelta

import pytest
from django.conf import settings

from builder.definition import validate
from builder.models import Workflow
from core.counters import coordination_redis
from runner import launch
from runner.models import ActionLimit, Attempt, Run, RunEvent
from tests import servers
from tests.runs import duplicated_transitions, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = 200


def _limit(workspace, **fields):
    return ActionLimit.objects.create(workspace=workspace, **fields)


def _max_overlap(intervals):
    """The most intervals open at one instant (an end at t closes before a start at t)."""
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    open_now = peak = 0
    for _, change in edges:
        open_now += change
        peak = max(peak, open_now)
    return peak


def _most_starts_per_second(starts):
    """The most starts inside any half-open window [t, t + 1 s)."""
    starts = sorted(starts)
    most, first = 0, 0
    for last, at in enumerate(starts):
        while at - starts[first] >= timedelta(seconds=1):
            first += 1
        most = max(most, last - first + 1)
    return most


def _wait_until(predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


@pytest.fixture
def second_worker(worker):
    """Another worker process beside the session's: two hosts' worth of workers."""
    other = servers.WorkerProcess(database_url=servers.test_database_url(), threads=8)
    other.start()
    yield other
    other.stop()


def _workflow(workspace, slug, steps, **top):
    workflow = Workflow.objects.create(workspace=workspace, slug=slug, name=slug)
    return workflow, workflow.publish(validate({"steps": steps, **top}, workspace))


def _run(workflow, version, input):
    return launch.start_run(
        workspace=workflow.workspace,
        definition=version.definition,
        input=input,
        workflow=workflow,
        workflow_version=version,
    )


def test_action_limit_holds_under_many_runs_across_two_worker_processes(
    worker, second_worker, workspace
):
    # Given at most 3 sleeps at once and 5 started per second
    _limit(workspace, name="sleepers", action="debug.sleep", max_concurrent=3, rate_per_s=5)
    # When RUNS runs of one sleep each (0.2 to 1 s) start together on two worker processes
    runs = [
        start(
            workspace, [{"key": "nap", "action": "debug.sleep", "input": {"ms": 200 + i % 5 * 200}}]
        )
        for i in range(RUNS)
    ]
    runs = [wait_for(run, timeout=RUNS * 0.6 + 60) for run in runs]
    # Then every run succeeds, each step on one attempt, none claimed twice
    assert {run.status for run in runs} == {"succeeded"}
    fields = ("started_at", "ended_at", "worker", "run__created_at")
    attempts = list(Attempt.objects.filter(run__in=runs).values(*fields))
    assert len(attempts) == RUNS
    # (the longest waited past LOST_MESSAGE_AFTER_S, yet the sweeper never took a held
    # attempt's message for lost: each hold moved its due time on)
    longest = max((a["started_at"] - a["run__created_at"]).total_seconds() for a in attempts)
    assert longest > settings.LOST_MESSAGE_AFTER_S
    assert not Attempt.objects.filter(run__in=runs, resent_count__gt=0).exists()
    assert all(duplicated_transitions(run) == [] for run in runs[:20])
    # and, from what the attempts recorded, never more than 3 at once nor 5 in a second,
    intervals = [(a["started_at"], a["ended_at"]) for a in attempts]
    assert _max_overlap(intervals) == 3
    assert _most_starts_per_second([a["started_at"] for a in attempts]) <= 5
    # though both worker processes ran them
    assert len({a["worker"].rsplit(":", 1)[0] for a in attempts}) >= 2
    # and the steps that waited say which limit held them
    throttled = RunEvent.objects.filter(run__in=runs, type="attempt.throttled")
    assert throttled.count() >= RUNS // 2
    assert throttled.first().message.startswith("throttled by sleepers: ")


def test_a_keyed_action_limit_serialises_one_key_while_other_keys_proceed(worker, workspace):
    # Given one sleep at a time per sleep length (the key is the step's input.ms)
    _limit(
        workspace, name="per-length", action="debug.sleep", key="{{ input.ms }}", max_concurrent=1
    )
    # When three runs of each of two lengths start together
    runs = {
        ms: [
            start(workspace, [{"key": "nap", "action": "debug.sleep", "input": {"ms": ms}}])
            for _ in range(3)
        ]
        for ms in (600, 601)
    }
    for group in runs.values():
        for run in group:
            assert wait_for(run, timeout=40).status == "succeeded"
    spans = {
        ms: [(a.started_at, a.ended_at) for a in Attempt.objects.filter(run__in=group)]
        for ms, group in runs.items()
    }
    # Then the runs of one key never overlap, while the two keys ran side by side
    assert _max_overlap(spans[600]) == 1
    assert _max_overlap(spans[601]) == 1
    assert _max_overlap(spans[600] + spans[601]) == 2
    event = RunEvent.objects.filter(type="attempt.throttled").first()
    assert event.data["limit"] in ("per-length (600)", "per-length (601)")


def test_a_workflow_concurrency_key_runs_one_per_customer_at_a_time(worker, workspace):
    # Given a workflow that allows one run at a time per customer
    steps = [{"key": "work", "action": "debug.sleep", "input": {"ms": 500}}]
    concurrency = {"key": "{{ input.customer_id }}", "limit": 1}
    workflow, version = _workflow(workspace, "per-customer", steps, concurrency=concurrency)
    # When three runs for each of two customers start together
    runs = [_run(workflow, version, {"customer_id": c}) for c in ("acme", "globex") * 3]
    runs = [wait_for(run, timeout=40) for run in runs]
    # Then every run succeeds; one customer's runs never overlap, in the order they came,
    assert {run.status for run in runs} == {"succeeded"}
    assert {run.concurrency_key for run in runs} == {"acme", "globex"}
    for customer in ("acme", "globex"):
        mine = [run for run in runs if run.concurrency_key == customer]
        assert _max_overlap([(r.started_at, r.ended_at) for r in mine]) == 1
        assert [r.id for r in sorted(mine, key=lambda r: r.started_at)] == [r.id for r in mine]
    # and the two customers' runs went side by side
    assert _max_overlap([(r.started_at, r.ended_at) for r in runs]) == 2
    held = RunEvent.objects.filter(run__in=runs, type="attempt.throttled")
    assert {e.data["limit"] for e in held} <= {"concurrency key acme", "concurrency key globex"}
    assert held.exists()


def test_max_concurrent_runs_queues_the_rest_in_order(worker, workspace):
    # Given a workflow of at most 2 runs at once
    steps = [{"key": "work", "action": "debug.sleep", "input": {"ms": 400}}]
    workflow, version = _workflow(workspace, "two-at-once", steps, max_concurrent_runs=2)
    # When 8 runs start together
    runs = [_run(workflow, version, {}) for _ in range(8)]
    # Then the later ones wait, queued, with no attempt running
    _wait_until(
        lambda: Run.objects.filter(id__in=[r.id for r in runs], status="running").count() == 2
    )
    assert Run.objects.get(id=runs[-1].id).status == "queued"
    runs = [wait_for(run, timeout=40) for run in runs]
    assert {run.status for run in runs} == {"succeeded"}
    # never more than 2 at once, and they started in the order they were made
    assert _max_overlap([(r.started_at, r.ended_at) for r in runs]) == 2
    assert [r.id for r in sorted(runs, key=lambda r: r.started_at)] == [r.id for r in runs]
    event = RunEvent.objects.filter(run=runs[-1], type="attempt.throttled").first()
    assert event.message.startswith("throttled by max_concurrent_runs: 2 runs at once")


def test_runs_whose_first_step_waits_pass_the_same_gate(worker, workspace):
    # Given a workflow of one run at a time whose first step is a 1 s sleep
    steps = [
        {"key": "pause", "type": "sleep", "for_s": 1},
        {"key": "work", "action": "debug.echo", "input": {"n": 1}},
    ]
    workflow, version = _workflow(workspace, "one-sleeper", steps, max_concurrent_runs=1)
    # When 3 runs start together
    runs = [_run(workflow, version, {}) for _ in range(3)]
    # Then one runs; the others stay queued, their sleep waiting for admission, not asleep
    assert [Run.objects.get(id=r.id).status for r in runs] == ["running", "queued", "queued"]
    held = runs[2].steps.get(key="pause")
    assert (held.status, held.waiting_for) == ("waiting", "admission")
    why = "queued by max_concurrent_runs: 1 runs at once; number 2 in line"
    # And they run one at a time, in order, each sleeping its full second once admitted
    runs = [wait_for(run, timeout=40) for run in runs]
    assert {run.status for run in runs} == {"succeeded"}
    assert _max_overlap([(r.started_at, r.ended_at) for r in runs]) == 1
    assert [r.id for r in sorted(runs, key=lambda r: r.started_at)] == [r.id for r in runs]
    for run in runs:
        pause = run.steps.get(key="pause")
        assert pause.started_at >= run.started_at
        assert pause.ended_at - pause.started_at >= timedelta(seconds=1)
    types = list(runs[2].events.filter(step_key="pause").values_list("type", "message"))
    assert types[:2] == [("step.waiting", why), ("step.pending", "admitted")]


def test_an_approval_first_run_holds_its_place_while_it_waits(worker, workspace):
    # Given a workflow of one run at a time whose first step is an approval
    steps = [{"key": "review", "type": "approval"}, {"key": "work", "action": "debug.echo"}]
    workflow, version = _workflow(workspace, "one-review", steps, max_concurrent_runs=1)
    first, second = _run(workflow, version, {}), _run(workflow, version, {})
    # Then the second waits for admission while the first waits for its approval
    assert first.steps.get(key="review").waiting_for == "approval:editor"
    assert second.steps.get(key="review").waiting_for == "admission"
    time.sleep(1.5)  # it asks again, and is held again, without a new event
    assert Run.objects.get(id=second.id).status == "queued"
    assert second.events.filter(type="step.waiting").count() == 1
    # When the first is approved and ends
    launch.decide_approval(first.id, "review", approved=True, by="alice", comment="")
    first = wait_for(first)
    assert first.status == "succeeded"
    # Then the second is admitted and waits for its own approval
    _wait_until(lambda: second.steps.get(key="review").waiting_for == "approval:editor")
    launch.decide_approval(second.id, "review", approved=True, by="alice", comment="")
    second = wait_for(second)
    assert second.status == "succeeded" and second.started_at >= first.ended_at


def test_a_run_whose_first_step_is_a_sub_workflow_waits_its_turn(worker, workspace):
    # Given a child workflow of one 0.5 s step and a parent of one run at a time whose
    # first step runs that child
    _workflow(workspace, "child", [{"key": "nap", "action": "debug.sleep", "input": {"ms": 500}}])
    steps = [{"key": "sub", "type": "workflow", "workflow": "child"}]
    workflow, version = _workflow(workspace, "parent", steps, max_concurrent_runs=1)
    # When two parent runs start together
    first, second = _run(workflow, version, {}), _run(workflow, version, {})
    # Then the second starts no child until the first has ended
    assert second.steps.get(key="sub").waiting_for == "admission"
    assert not Run.objects.filter(parent_run=second).exists()
    first, second = wait_for(first), wait_for(second)
    assert (first.status, second.status) == ("succeeded", "succeeded")
    assert second.started_at >= first.ended_at
    assert Run.objects.get(parent_run=second).created_at >= first.ended_at


def test_a_killed_workers_concurrency_slot_comes_back(worker, workspace):
    # Given one sleep at a time, held by a long sleep (that is not retried)
    _limit(workspace, name="one-at-a-time", action="debug.sleep", max_concurrent=1)
    long_sleep = {"ms": 30_000}
    first = start(
        workspace,
        [
            {
                "key": "nap",
                "action": "debug.sleep",
                "input": long_sleep,
                "retry": {"max_attempts": 1},
            }
        ],
    )
    _wait_until(lambda: Attempt.objects.filter(run=first, status="running").exists())
    leases = list(coordination_redis().scan_iter("brickwork:limit:*:held"))
    assert len(leases) == 1 and coordination_redis().zcard(leases[0]) == 1
    # When the worker holding the slot is killed, a new one starts, and another run comes
    # (started after the kill: a delayed message the dead worker had taken waits for the
    # sweeper's LOST_MESSAGE_AFTER_S, whatever limits do)
    worker.kill_hard()
    killed_at = time.time()
    worker.start()
    second = start(workspace, [{"key": "nap", "action": "debug.sleep", "input": {"ms": 100}}])
    # Then the slot comes back (its lease runs out) and the waiting run goes, long before
    # the killed sleep would have ended
    second = wait_for(second, timeout=30)
    assert second.status == "succeeded"
    began = Attempt.objects.get(run=second).started_at.timestamp()
    assert 2 < began - killed_at < 15  # held until the dead worker's lease ran out
    assert wait_for(first, timeout=30).status == "failed"
