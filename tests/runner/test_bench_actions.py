"""The bench's real-action chain (`debug.fib`) takes the per-step path, not the inline one:
the bench's headline would otherwise measure local steps again."""

from runner.models import RunEvent
from tests.runs import start, wait_for


def test_a_chain_of_fib_steps_runs_a_transaction_per_step(worker, workspace):
    # Given a 5-step chain of debug.fib
    steps = [{"key": f"s{n}", "action": "debug.fib", "input": {"n": 10}} for n in range(5)]
    # When a real worker runs it
    run = wait_for(start(workspace, steps))
    # Then every step computed fib(10), and none ran inline
    assert run.status == "succeeded"
    assert [step.output for step in run.steps.order_by("position")] == [{"n": 10, "fib": 55}] * 5
    finished = RunEvent.objects.filter(run=run, type="attempt.succeeded")
    assert finished.count() == 5
    assert not [e for e in finished if (e.data or {}).get("inline")]
