"""Runs that decide: conditions, skip propagation, after_any joins, switches and error
routes, each path run by a real worker."""

import pytest

from runner.models import RunEvent
from runner.reruns import rerun
from tests.runs import duplicated_transitions, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _statuses(run):
    return {s.key: s.status for s in run.steps.filter(kind="action")}


def _reason(run, key):
    return RunEvent.objects.get(run=run, step_key=key, type="step.skipped").message


IF_ELSE = [
    {"key": "check", "action": "debug.echo", "input": {"total": "{{ input.total }}"}},
    {
        "key": "big",
        "action": "debug.echo",
        "input": {"branch": "big"},
        "when": "steps.check.output.total > 100",
    },
    {
        "key": "small",
        "action": "debug.echo",
        "input": {"branch": "small"},
        "after": ["check"],
        "when": "steps.check.output.total <= 100",
    },
    {"key": "after_big", "action": "debug.echo", "after": ["big"]},
    {
        "key": "join",
        "action": "debug.echo",
        "input": {"big": "{{ steps.big.output }}", "small": "{{ steps.small.output }}"},
        "after": ["after_big", "small"],
        "after_any": True,
    },
]


@pytest.mark.parametrize(
    ("total", "ran", "skipped"),
    [(500, {"big", "after_big"}, {"small"}), (5, {"small"}, {"big", "after_big"})],
)
def test_if_else_with_skip_propagation_and_a_join(worker, workspace, total, ran, skipped):
    run = wait_for(start(workspace, IF_ELSE, {"total": total}))
    assert run.status == "succeeded", run.error
    statuses = _statuses(run)
    assert {k for k, s in statuses.items() if s == "skipped"} == skipped
    assert {k for k, s in statuses.items() if s == "succeeded"} == ran | {"check", "join"}
    join = run.steps.get(key="join")
    branch = "big" if total > 100 else "small"
    assert join.output == {
        "big": {"branch": "big"} if branch == "big" else None,
        "small": {"branch": "small"} if branch == "small" else None,
    }
    if total > 100:
        assert _reason(run, "small") == "condition false: steps.check.output.total <= 100"
    else:
        assert _reason(run, "big") == "condition false: steps.check.output.total > 100"
        assert _reason(run, "after_big") == "upstream step big was skipped"
    assert run.output == join.output
    assert not run.attempts.filter(step_run__status="skipped").exists()
    assert duplicated_transitions(run) == []


def test_a_join_with_every_branch_skipped_is_skipped(worker, workspace):
    run = wait_for(
        start(
            workspace,
            [
                {"key": "a", "action": "debug.echo", "when": "input.go == true"},
                {"key": "b", "action": "debug.echo", "after": [], "when": "exists input.go"},
                {"key": "join", "action": "debug.echo", "after": ["a", "b"], "after_any": True},
            ],
        )
    )
    assert run.status == "succeeded"
    assert _statuses(run) == {"a": "skipped", "b": "skipped", "join": "skipped"}
    assert _reason(run, "join").startswith("no step it runs after ran")


def test_a_condition_on_the_input_and_run(worker, workspace):
    steps = [
        {"key": "fr", "action": "debug.echo", "when": 'input.country in ["FR", "DE"]'},
        {"key": "any", "action": "debug.echo", "after": [], "when": "run.id > 0"},
    ]
    run = wait_for(start(workspace, steps, {"country": "DE"}))
    assert _statuses(run) == {"fr": "succeeded", "any": "succeeded"}
    run = wait_for(start(workspace, steps, {"country": "US"}))
    assert _statuses(run) == {"fr": "skipped", "any": "succeeded"}
    assert run.status == "succeeded"


SWITCH = [
    {"key": "check", "action": "debug.echo", "input": {"total": "{{ input.total }}"}},
    {
        "key": "route",
        "type": "switch",
        "cases": [
            {"name": "big", "when": "steps.check.output.total > 1000", "next": ["review"]},
            {"name": "abroad", "when": 'input.country != "FR"', "next": ["customs"]},
        ],
        "default": ["ship"],
    },
    {"key": "review", "action": "debug.echo", "after": ["route"]},
    {"key": "customs", "action": "debug.echo", "after": ["route"]},
    {"key": "ship", "action": "debug.echo", "after": ["route"]},
    {"key": "label", "action": "debug.echo", "after": ["ship"]},
    {
        "key": "tell",
        "action": "debug.echo",
        "input": {"case": "{{ steps.route.output.case }}"},
        "after": ["review", "customs", "label"],
        "after_any": True,
    },
]


@pytest.mark.parametrize(
    ("input", "case", "index", "ran"),
    [
        ({"total": 5000, "country": "DE"}, "big", 0, {"review"}),
        ({"total": 10, "country": "DE"}, "abroad", 1, {"customs"}),
        ({"total": 10, "country": "FR"}, "default", -1, {"ship", "label"}),
    ],
)
def test_switch_takes_exactly_one_case(worker, workspace, input, case, index, ran):
    run = wait_for(start(workspace, SWITCH, input))
    assert run.status == "succeeded", run.error
    route = run.steps.get(key="route")
    assert route.output == {"case": case, "index": index}
    assert route.action_version_id is None and not route.attempts.exists()
    statuses = _statuses(run)
    branches = {"review", "customs", "ship", "label"}
    assert {k for k in branches if statuses[k] == "succeeded"} == ran
    assert {k for k in branches if statuses[k] == "skipped"} == branches - ran
    assert run.steps.get(key="tell").output == {"case": case}
    decided = RunEvent.objects.get(run=run, step_key="route", type="step.succeeded").message
    assert decided.startswith(f"case {case}" if index >= 0 else "default")
    if case != "big":
        assert _reason(run, "review") == f"branch not taken: route chose {case}"
    assert duplicated_transitions(run) == []


def test_a_switch_with_an_empty_default(worker, workspace):
    steps = [
        {
            "key": "route",
            "type": "switch",
            "cases": [{"name": "yes", "when": "input.go", "next": ["go"]}],
        },
        {"key": "go", "action": "debug.echo", "after": ["route"]},
        {"key": "always", "action": "debug.echo", "after": ["route"]},
    ]
    run = wait_for(start(workspace, steps, {"go": False}))
    assert run.status == "succeeded"
    assert _statuses(run) == {"route": "succeeded", "go": "skipped", "always": "succeeded"}


def _routed(fail_input, match, retry=None):
    pay = {"key": "pay", "action": "debug.fail", "input": fail_input}
    pay["retry"] = retry or {"max_attempts": 1}
    pay["on_error"] = [
        {"match": match, "next": ["handler"]},
        {"match": ["nothing_matches_this"], "next": ["other"]},
    ]
    return [
        {"key": "first", "action": "debug.echo", "compensate": {"action": "debug.echo"}},
        pay,
        {"key": "ship", "action": "debug.echo", "after": ["pay"]},
        {
            "key": "handler",
            "action": "debug.echo",
            "after": ["pay"],
            "input": {
                "code": "{{ steps.pay.error.code }}",
                "message": "{{ steps.pay.error.message }}",
                "type": "{{ steps.pay.error.type }}",
            },
        },
        {"key": "other", "action": "debug.echo", "after": ["pay"]},
        {"key": "end", "action": "debug.echo", "after": ["ship", "handler"], "after_any": True},
    ]


@pytest.mark.parametrize(
    ("fail_input", "match", "type"),
    [
        ({"code": "card_declined", "message": "declined"}, ["card_declined"], "ActionError"),
        ({"retryable": False, "message": "bad"}, ["non_retryable"], "NonRetryable"),
        ({"message": "any"}, ["ActionError"], "ActionError"),
        ({"message": "star"}, ["*"], "ActionError"),
    ],
)
def test_a_handled_failure_runs_its_handler_and_the_run_succeeds(
    worker, workspace, fail_input, match, type
):
    run = wait_for(start(workspace, _routed(fail_input, match)))
    assert run.status == "succeeded", run.error
    pay = run.steps.get(key="pay")
    assert pay.status == "failed"
    assert pay.handled == {"route": 0, "match": match[0], "next": ["handler"]}
    assert pay.error["message"] == fail_input["message"]
    assert _statuses(run) == {
        "first": "succeeded",
        "pay": "failed",
        "ship": "skipped",
        "handler": "succeeded",
        "other": "skipped",
        "end": "succeeded",
    }
    assert run.steps.get(key="handler").output == {
        "code": fail_input.get("code"),
        "message": fail_input["message"],
        "type": type,
    }
    assert not run.steps.filter(kind="compensation").exists()
    handled = RunEvent.objects.get(run=run, type="step.handled")
    assert handled.message == f"handled by on_error[0] ({match[0]}): runs handler"
    assert _reason(run, "other") == "error route of pay not taken"
    assert _reason(run, "ship") == "upstream step pay failed (handled)"


def test_a_timeout_is_routed(worker, workspace):
    steps = [
        {
            "key": "slow",
            "action": "debug.sleep",
            "input": {"ms": 3000},
            "timeout_s": 0.3,
            "retry": {"max_attempts": 1},
            "on_error": [{"match": ["timeout"], "next": ["late"]}],
        },
        {"key": "late", "action": "debug.echo", "after": ["slow"]},
    ]
    run = wait_for(start(workspace, steps))
    assert run.status == "succeeded", run.error
    slow = run.steps.get(key="slow")
    assert slow.handled["match"] == "timeout" and slow.error["code"] == "timeout"
    assert _statuses(run)["late"] == "succeeded"


def test_a_handler_that_fails_fails_the_run(worker, workspace):
    steps = _routed({"message": "x"}, ["*"])
    steps[3] = {
        "key": "handler",
        "action": "debug.fail",
        "after": ["pay"],
        "retry": {"max_attempts": 1},
    }
    steps[0].pop("compensate")
    run = wait_for(start(workspace, steps))
    assert run.status == "failed"
    assert run.error["step"] == "handler"
    statuses = _statuses(run)
    assert statuses["pay"] == "failed" and statuses["handler"] == "failed"
    assert statuses["end"] == "skipped"


def test_a_handler_that_fails_compensates_first(worker, workspace):
    steps = _routed({"message": "x"}, ["*"])
    steps[3] = {
        "key": "handler",
        "action": "debug.fail",
        "after": ["pay"],
        "retry": {"max_attempts": 1},
    }
    run = wait_for(start(workspace, steps))
    assert run.status == "compensated"
    assert run.steps.get(kind="compensation", key="first").status == "succeeded"


def test_no_matching_route_compensates_as_before(worker, workspace):
    run = wait_for(start(workspace, _routed({"code": "other"}, ["card_declined"])))
    assert run.status == "compensated"
    pay = run.steps.get(key="pay")
    assert pay.status == "failed" and pay.handled is None
    assert run.error["step"] == "pay"
    statuses = _statuses(run)
    assert statuses["handler"] == "skipped" and statuses["ship"] == "skipped"
    assert run.steps.get(kind="compensation", key="first").status == "succeeded"


def test_when_it_succeeds_the_handler_is_skipped(worker, workspace):
    steps = _routed({"fail_times": 0}, ["*"])
    run = wait_for(start(workspace, steps))
    assert run.status == "succeeded"
    statuses = _statuses(run)
    assert statuses["handler"] == "skipped" and statuses["ship"] == "succeeded"
    assert _reason(run, "handler") == "error route of pay not taken: it succeeded"


def test_a_condition_reads_the_error(worker, workspace):
    steps = _routed({"code": "card_declined"}, ["*"])
    steps[3]["when"] = 'steps.pay.error.code == "expired"'
    run = wait_for(start(workspace, steps))
    assert run.status == "succeeded"
    assert _statuses(run)["handler"] == "skipped"
    assert _statuses(run)["end"] == "skipped"


# Reruns from the failed step: succeeded decisions are kept when they would be taken
# again; skipped steps are decided afresh.


def test_rerun_of_an_if_else_reuses_the_branch_taken(worker, workspace):
    steps = [dict(s) for s in IF_ELSE]
    steps[4] = {**steps[4], "action": "debug.fail", "input": {"fail_times": "{{ input.fails }}"}}
    steps[4]["retry"] = {"max_attempts": 1}
    run = wait_for(start(workspace, steps, {"total": 5, "fails": -1}))
    assert run.status == "failed"
    again = wait_for(rerun(run, start_from="failed", input={"total": 5, "fails": 0}))
    assert again.status == "succeeded", again.error
    reused = {s.key for s in again.steps.filter(reused_from__isnull=False)}
    assert reused == {"check", "small"}
    assert _statuses(again) == {
        "check": "succeeded",
        "big": "skipped",
        "small": "succeeded",
        "after_big": "skipped",
        "join": "succeeded",
    }


def test_rerun_of_a_switch_decides_again_when_the_input_changes_the_case(worker, workspace):
    steps = [dict(s) for s in SWITCH]
    steps[0] = {"key": "check", "action": "debug.echo", "input": {"total": 10}}
    steps[6] = {**steps[6], "action": "debug.fail", "input": {"fail_times": "{{ input.fails }}"}}
    steps[6]["retry"] = {"max_attempts": 1}
    run = wait_for(start(workspace, steps, {"country": "DE", "fails": -1}))
    assert run.status == "failed"
    assert run.steps.get(key="route").output == {"case": "abroad", "index": 1}
    same = wait_for(rerun(run, start_from="failed", input={"country": "DE", "fails": 0}))
    assert same.status == "succeeded"
    assert {s.key for s in same.steps.filter(reused_from__isnull=False)} == {
        "check",
        "route",
        "customs",
    }
    other = wait_for(rerun(run, start_from="failed", input={"country": "FR", "fails": 0}))
    assert other.status == "succeeded"
    assert {s.key for s in other.steps.filter(reused_from__isnull=False)} == {"check"}
    assert other.steps.get(key="route").output == {"case": "default", "index": -1}
    assert _statuses(other)["customs"] == "skipped" and _statuses(other)["label"] == "succeeded"
