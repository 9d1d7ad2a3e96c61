"""Issue 13: a step's input renders in the key order its template was written in, though
PostgreSQL's jsonb sorts the keys of the definition it stores, with a real worker."""

import json

import pytest

from core import key_order
from runner import reruns
from runner.models import Run, StepRun
from tests.runs import start, wait_for

# Keys jsonb would store the other way round (shorter first, then bytewise), at each level.
TEMPLATE = {"zeta": "{{ input.n }}", "beta": {"yankee": 1, "xray": [{"mike": 1, "kilo": 2}]}}
RENDERED = {"zeta": 7, "beta": {"yankee": 1, "xray": [{"mike": 1, "kilo": 2}]}}


@pytest.mark.django_db(transaction=True)
def test_a_step_input_and_its_rerun_s_render_in_the_template_s_order(
    worker, client, workspace, alice
):
    # Given steps whose input template's keys are in an order jsonb does not keep: the
    # first renders as the run starts, the second in the worker, from the stored definition
    steps = [
        {"key": "first", "action": "debug.echo", "input": TEMPLATE},
        {"key": "second", "action": "debug.echo", "input": TEMPLATE, "after": ["first"]},
    ]
    # When a real worker runs it
    run = wait_for(start(workspace, steps, input={"n": 7}))
    assert run.status == "succeeded"
    # Then the step's input, as the action got it, and its output are in that order
    for step in StepRun.objects.filter(run=run):
        assert json.dumps(key_order.ordered(step, "input")) == json.dumps(RENDERED)
        assert json.dumps(key_order.ordered(step, "output")) == json.dumps(RENDERED)
    # And the run page's step pane shows it so
    client.force_login(alice)
    pane = client.get(f"/w/acme/runs/{run.id}/step?id={step.id}").content.decode()
    positions = [pane.find(f"&quot;{key}&quot;:") for key in ("zeta", "beta", "mike", "kilo")]
    assert -1 not in positions and positions == sorted(positions), pane[:2000]
    # And a rerun renders it in the same order
    again = wait_for(reruns.rerun(Run.objects.get(id=run.id)))
    assert again.status == "succeeded"
    for rerun_step in StepRun.objects.filter(run=again):
        assert json.dumps(key_order.ordered(rerun_step, "input")) == json.dumps(RENDERED)
