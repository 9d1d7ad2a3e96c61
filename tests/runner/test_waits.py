"""Wait steps run by a real worker: a sleep wakes on time, an event resumes its step or
times out (fail or continue), an approval is approved, rejected or times out; none holds
a worker while it waits, and a cancel ends a waiting run."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from runner import launch
from runner.models import RunEvent
from runner.wait_transitions import NotWaiting
from tests.runs import duplicated_transitions, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until_waiting(run, key, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        step = run.steps.get(key=key, kind="action")
        if step.status == "waiting":
            return step
        time.sleep(0.05)
    raise AssertionError(f"step {key} never waited (it is {step.status})")


def test_a_sleep_holds_no_worker_and_wakes_on_time(worker, workspace):
    run = start(
        workspace,
        [
            {"key": "pause", "type": "sleep", "for_s": 2},
            {"key": "after", "action": "debug.echo", "input": {"woke": "{{ steps.pause.output }}"}},
        ],
    )
    step = wait_until_waiting(run, "pause")
    assert step.waiting_for == "sleep"
    assert not run.attempts.filter(step_run=step).exists()  # no worker holds it
    run = wait_for(run)
    assert run.status == "succeeded", run.error
    pause = run.steps.get(key="pause")
    late = (pause.ended_at - pause.wake_at).total_seconds()
    assert 0 <= late < 1, late
    assert abs((pause.wake_at - pause.started_at).total_seconds() - 2) < 0.01
    assert run.output == {"woke": {"slept_until": pause.output["slept_until"]}}
    assert duplicated_transitions(run) == []


def test_a_sleep_until_a_time_from_the_input(worker, workspace):
    at = datetime.now(UTC) + timedelta(seconds=1.5)
    run = start(workspace, [{"key": "pause", "type": "sleep", "until": "{{ input.at }}"}],
                {"at": at.isoformat()})  # fmt: skip
    run = wait_for(run)
    assert run.status == "succeeded"
    pause = run.steps.get(key="pause")
    assert abs((pause.wake_at - at).total_seconds()) < 0.01
    assert 0 <= (pause.ended_at - at).total_seconds() < 1


def test_a_sleep_until_something_that_is_no_time_fails_the_step(worker, workspace):
    run = wait_for(
        start(
            workspace,
            [{"key": "pause", "type": "sleep", "until": "{{ input.at }}"}],
            {"at": "tomorrow"},
        )  # fmt: skip
    )
    assert run.status == "failed"
    assert "ISO 8601" in run.steps.get(key="pause").error["message"]


EVENT_FLOW = [
    {"key": "pay", "type": "event", "event": "payment_received", "timeout_s": 30},
    {"key": "ship", "action": "debug.echo", "input": {"paid": "{{ steps.pay.output.amount }}"}},
]


def test_an_event_resumes_its_step_with_the_payload(worker, workspace):
    run = start(workspace, EVENT_FLOW)
    wait_until_waiting(run, "pay")
    with pytest.raises(NotWaiting):
        launch.deliver_event(run.id, "something_else", {})
    assert launch.deliver_event(run.id, "payment_received", {"amount": 42}) == ["pay"]
    run = wait_for(run)
    assert run.status == "succeeded"
    assert run.steps.get(key="pay").output == {"amount": 42}
    assert run.output == {"paid": 42}
    with pytest.raises(NotWaiting):  # once only
        launch.deliver_event(run.id, "payment_received", {"amount": 43})


def test_an_event_timing_out_fails_the_step_with_wait_timeout(worker, workspace):
    steps = [
        {"key": "pay", "type": "event", "event": "paid", "timeout_s": 1,
         "on_error": [{"match": ["wait_timeout"], "next": ["remind"]}]},
        {"key": "ship", "action": "debug.echo"},
        {"key": "remind", "action": "debug.echo", "after": ["pay"],
         "input": {"why": "{{ steps.pay.error.code }}"}},
    ]  # fmt: skip
    run = wait_for(start(workspace, steps))
    assert run.status == "succeeded", run.error  # the route handled the timeout
    pay = run.steps.get(key="pay")
    assert pay.status == "failed" and pay.error["code"] == "wait_timeout"
    assert pay.handled["match"] == "wait_timeout"
    assert run.steps.get(key="remind").output == {"why": "wait_timeout"}
    assert run.steps.get(key="ship").status == "skipped"


def test_an_event_timing_out_unrouted_fails_the_run(worker, workspace):
    run = wait_for(start(workspace, [{"key": "pay", "type": "event", "event": "paid",
                                      "timeout_s": 0.5}]))  # fmt: skip
    assert run.status == "failed"
    assert run.error["step"] == "pay"


def test_an_event_timing_out_can_continue(worker, workspace):
    steps = [
        {"key": "pay", "type": "event", "event": "paid", "timeout_s": 1, "on_timeout": "continue"},
        {"key": "late", "action": "debug.echo", "when": "not exists steps.pay.output"},
    ]
    run = wait_for(start(workspace, steps))
    assert run.status == "succeeded"
    assert run.steps.get(key="pay").output is None
    assert run.steps.get(key="late").status == "succeeded"


APPROVAL_FLOW = [
    {"key": "review", "type": "approval", "role": "editor", "timeout_s": 60},
    {"key": "ship", "action": "debug.echo", "when": "steps.review.output.approved == true"},
    {"key": "refuse", "action": "debug.echo", "after": ["review"],
     "when": "steps.review.output.approved == false",
     "input": {"comment": "{{ steps.review.output.comment }}"}},
]  # fmt: skip


@pytest.mark.parametrize("approved", [True, False])
def test_an_approval_decides_the_branch(worker, workspace, approved):
    run = start(workspace, APPROVAL_FLOW)
    step = wait_until_waiting(run, "review")
    assert step.waiting_for == "approval:editor"
    key = launch.decide_approval(run.id, None, approved=approved, by="alice", comment="ok?")
    assert key == "review"
    run = wait_for(run)
    assert run.status == "succeeded"
    review = run.steps.get(key="review")
    assert review.output == {"approved": approved, "by": "alice", "comment": "ok?"}
    ran = "ship" if approved else "refuse"
    assert run.steps.get(key=ran).status == "succeeded"
    event = RunEvent.objects.get(run=run, step_key="review", type="step.succeeded")
    assert event.data["by"] == "alice" and event.data["comment"] == "ok?"
    assert event.message.startswith(("approved by alice", "rejected by alice"))
    with pytest.raises(NotWaiting):
        launch.decide_approval(run.id, "review", approved=True, by="bob", comment="")


@pytest.mark.parametrize(
    ("policy", "status", "approved"),
    [("reject", "succeeded", False), ("approve", "succeeded", True), ("fail", "failed", None)],
)
def test_an_approval_timing_out(worker, workspace, policy, status, approved):
    steps = [{"key": "review", "type": "approval", "timeout_s": 0.5, "on_timeout": policy}]
    if policy == "fail":
        steps[0].pop("on_timeout")
    run = wait_for(start(workspace, steps))
    assert run.status == status
    review = run.steps.get(key="review")
    if approved is None:
        assert review.error["code"] == "wait_timeout"
    else:
        assert review.output["approved"] is approved and review.output["by"] is None


def test_cancelling_a_waiting_run_cancels_it(worker, workspace):
    run = start(workspace, [{"key": "pause", "type": "sleep", "for_s": 600}])
    wait_until_waiting(run, "pause")
    launch.cancel_run(run.id)
    run = wait_for(run)
    assert run.status == "cancelled"
    assert run.steps.get(key="pause").status == "skipped"
    with pytest.raises(NotWaiting):
        launch.decide_approval(run.id, None, approved=True, by="x", comment="")


def test_a_rerun_from_the_failed_step_reuses_a_given_approval(worker, workspace):
    from runner.reruns import rerun

    steps = [
        {"key": "review", "type": "approval"},
        {"key": "boom", "action": "debug.fail", "input": {"fail_times": -1},
         "retry": {"max_attempts": 1}},
    ]  # fmt: skip
    run = start(workspace, steps)
    wait_until_waiting(run, "review")
    launch.decide_approval(run.id, "review", approved=True, by="alice", comment="")
    run = wait_for(run)
    assert run.status == "failed"
    again = wait_for(rerun(run, start_from="failed"))
    review = again.steps.get(key="review")
    assert review.reused_from_id is not None and review.output["approved"] is True
    fresh = wait_for(rerun(run, start_from="start"), statuses=("running",))
    wait_until_waiting(fresh, "review")
