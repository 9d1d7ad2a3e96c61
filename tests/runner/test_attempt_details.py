"""Issue 13: an attempt's log lines beside its output, and inputs and outputs in the key
order they were written in, on the run page and in the API, with a real worker."""

import json
import re

import pytest

from core import key_order
from core.models import ApiKey, Secret
from runner import reruns
from runner.attempt_log import MAX_BYTES, MAX_LINES, Lines
from runner.models import Attempt, StepRun
from tests.runs import start, wait_for

SECRET = "s3cr3t-t0ken-value"
UNSORTED = {"z": 1, "a": 2, "m": {"y": 1, "b": 2}}


def _keys_in(text, *keys):
    """The positions of `"key":` in `text` (JSON or HTML-escaped JSON), in that order."""
    found = [re.search(rf"(&quot;|\"){key}(&quot;|\"):", text) for key in keys]
    assert all(found), (keys, text[:2000])
    return [match.start() for match in found]


@pytest.mark.django_db(transaction=True)
def test_log_lines_and_key_order_reach_the_page_and_the_api(worker, client, workspace, alice):
    # Given a secret and a step that logs (one line quoting the secret) and returns what
    # the run's input gives it, its keys in an order no database sorts them in
    Secret.set(workspace, "TOKEN", SECRET)
    steps = [
        {
            "key": "noisy",
            "action": "debug.log",
            "input": {
                "lines": ["starting", "token is {{ secrets.TOKEN }}", "done"],
                "level": "warning",
                "output": "{{ input.out }}",
            },
        }
    ]
    # When a real worker runs it, with a run input in its own order too
    run_input = {"zeta": 1, "alpha": {"k2": 1, "k1": 2}, "out": UNSORTED}
    run = wait_for(start(workspace, steps, input=run_input))
    assert run.status == "succeeded"
    attempt = Attempt.objects.get(run=run)

    # Then the attempt keeps what the action logged, the secret masked, never stored
    assert "WARNING brickwork.debug: starting" in attempt.log
    assert "token is ***" in attempt.log and "done" in attempt.log
    assert SECRET not in attempt.log
    # And the run page's attempt pane shows the lines next to the output, in its order
    client.force_login(alice)
    pane = client.get(f"/w/acme/runs/{run.id}/attempt?id={attempt.id}").content.decode()
    assert "token is ***" in pane and SECRET not in pane
    assert pane.index("Log") > pane.index("Output")
    z, a, m, y, b = _keys_in(pane, "z", "a", "m", "y", "b")
    assert z < a < m < y < b
    run_pane = client.get(f"/w/acme/runs/{run.id}/io").content.decode()
    zeta, alpha, k2, k1 = _keys_in(run_pane, "zeta", "alpha", "k2", "k1")
    assert zeta < alpha < k2 < k1  # the run's input
    step = StepRun.objects.get(run=run)
    step_pane = client.get(f"/w/acme/runs/{run.id}/step?id={step.id}").content.decode()
    z, a, m = _keys_in(step_pane, "z", "a", "m")
    assert z < a < m

    # And the API's run detail has the same lines and orders
    key = ApiKey.issue(workspace, "tests")[1]
    answer = client.get(f"/api/v1/runs/{run.id}", headers={"Authorization": f"Bearer {key}"})
    body = json.loads(answer.content)
    assert list(body["input"]) == ["zeta", "alpha", "out"] and list(body["input"]["alpha"]) == [
        "k2",
        "k1",
    ]
    assert list(body["output"]) == ["z", "a", "m"] and list(body["output"]["m"]) == ["y", "b"]
    (detail,) = body["steps"]
    assert list(detail["output"]) == ["z", "a", "m"]
    assert list(detail["input"]["output"]) == ["z", "a", "m"]
    (first,) = detail["attempts"]
    assert list(first["output"]) == ["z", "a", "m"] and list(first["output"]["m"]) == ["y", "b"]
    assert "token is ***" in first["log"] and SECRET not in answer.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_failed_attempt_keeps_what_was_logged_before_it_failed(worker, client, workspace):
    steps = [
        {"key": "log", "action": "debug.log", "input": {"lines": ["about to fail"]}},
        {"key": "boom", "action": "debug.fail", "input": {"fail_times": -1, "message": "no"}},
    ]
    run = wait_for(start(workspace, steps))
    assert run.status == "failed"
    assert "INFO brickwork.debug: about to fail" in Attempt.objects.get(step_run__key="log").log
    # An action that logs nothing leaves nothing
    assert {a.log for a in Attempt.objects.filter(step_run__key="boom")} == {""}


def test_log_lines_are_bounded_newest_kept():
    lines = Lines()
    for n in range(MAX_LINES + 50):
        lines.add(f"line {n}")
    text = lines.text()
    assert text.startswith("… 50 earlier lines not kept")
    assert text.endswith(f"line {MAX_LINES + 49}") and "line 49\n" not in text
    big = Lines()
    for n in range(100):
        big.add(f"{n:03d} " + "x" * 1000)
    text = big.text()
    assert len(text.encode()) <= MAX_BYTES + 100 and text.endswith("099 " + "x" * 1000)
    assert "earlier lines not kept" in text


def test_key_order_is_recorded_only_where_the_database_would_lose_it():
    # jsonb's own order: shorter keys first, then bytewise
    assert key_order.of({"a": 1, "b": {"c": 2, "dd": 3}, "ab": [{"x": 1}]}) is None
    order = key_order.of({"z": 1, "a": 2, "m": {"y": 1, "b": 2}, "l": [{"q": 1, "p": 2}]})
    assert order == {
        "k": ["z", "a", "m", "l"],
        "c": {"m": {"k": ["y", "b"]}, "l": {"c": {"0": {"k": ["q", "p"]}}}},
    }
    # Put back on a value the database re-sorted
    stored = {"a": 2, "l": [{"p": 2, "q": 1}], "m": {"b": 2, "y": 1}, "z": 1}
    restored = key_order.restore(stored, order)
    assert (
        json.dumps(restored) == '{"z": 1, "a": 2, "m": {"y": 1, "b": 2}, "l": [{"q": 1, "p": 2}]}'
    )
    assert key_order.restore(stored, None) is stored


def test_a_list_of_records_in_one_order_records_it_once():
    records = [{"name": f"n{n}", "id": n} for n in range(3)]
    assert key_order.of(records) == {"e": {"k": ["name", "id"]}}
    stored = [{"id": n, "name": f"n{n}"} for n in range(3)]
    assert key_order.restore(stored, key_order.of(records)) == records
    assert [list(r) for r in key_order.restore(stored, key_order.of(records))] == [
        ["name", "id"]
    ] * 3


@pytest.mark.django_db(transaction=True)
def test_a_rerun_from_the_failed_step_keeps_the_reused_output_s_order(worker, workspace):
    steps = [
        {"key": "make", "action": "debug.log", "input": {"lines": [], "output": "{{ input.out }}"}},
        {
            "key": "boom",
            "action": "debug.fail",
            "input": {"fail_times": "{{ input.fail_times }}"},
            "retry": {"max_attempts": 1},
        },
    ]
    original = wait_for(start(workspace, steps, input={"out": UNSORTED, "fail_times": -1}))
    assert original.status == "failed"
    again = {"out": UNSORTED, "fail_times": 0}
    rerun = wait_for(reruns.rerun(original, start_from="failed", input=again))
    assert rerun.status == "succeeded"
    reused = StepRun.objects.get(run=rerun, key="make")
    assert reused.reused_from_id is not None
    assert json.dumps(key_order.ordered(reused, "output")) == json.dumps(UNSORTED)
