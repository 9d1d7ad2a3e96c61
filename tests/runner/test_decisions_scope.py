"""A condition reads a step's status the same whether the status was read from the
database (text) or set earlier in the same transaction (the enum)."""

from types import SimpleNamespace

from core import expressions
from runner import decisions
from runner.states import StepKind, StepStatus


def test_a_status_set_in_this_transaction_compares_as_text():
    run = SimpleNamespace(id=1, input={}, scheduled_for=None)
    steps = [
        SimpleNamespace(key=key, status=status, output=None, error=None, kind=StepKind.ACTION)
        for key, status in (("set_now", StepStatus.SKIPPED), ("read", "skipped"))
    ]
    scope = decisions.scope(run, steps)
    for key in ("set_now", "read"):
        condition = expressions.parse(f'steps.{key}.status == "skipped"')
        assert condition.evaluate(scope) is True
        assert type(scope["steps"][key]["status"]) is str
