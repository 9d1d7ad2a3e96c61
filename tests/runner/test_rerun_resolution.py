"""Closing the failure loop: a rerun that succeeds resolves its original; a rerun can
replace the failed step's input or skip a step, recorded with who and when."""

import pytest

from runner import inbox, reruns
from runner.models import RunEvent
from tests.drive import drive
from tests.runs import attempts_of, start

pytestmark = pytest.mark.django_db

STEPS = [
    {"key": "fetch", "action": "debug.echo", "input": {"user": "{{ input.user }}"}},
    {
        "key": "deliver",
        "action": "debug.fail",
        "input": {"fail_times": -1, "message": "boom {{ input.user }}"},
        "retry": {"max_attempts": 1},
    },
    {"key": "notify", "action": "debug.echo", "input": {"done": "{{ input.user }}"}},
]


def failed(workspace):
    original = drive(start(workspace, STEPS, input={"user": "ada"}))
    assert original.status == "failed"
    return original


def test_a_rerun_that_succeeds_resolves_its_original(workspace, alice):
    # Given a failed run in the inbox
    original = failed(workspace)
    assert inbox.unresolved(workspace).count() == 1
    # When it is rerun from the failed step with the failed step's input edited
    rerun = reruns.rerun(
        original, start_from="failed", step_inputs={"deliver": {"fail_times": 0}}, user=alice
    )
    rerun = drive(rerun)
    # Then the rerun succeeds with the edited input, reusing `fetch`
    assert rerun.status == "succeeded"
    assert rerun.steps.get(key="deliver").input == {"fail_times": 0}
    assert attempts_of(rerun, "fetch") == []
    # and the original is resolved, linked to it; the inbox count drops
    original.refresh_from_db()
    assert original.resolved_at is not None
    assert original.resolved_by_run_id == rerun.id
    assert f"#{rerun.id}" in original.resolution_note
    assert inbox.unresolved(workspace).count() == 0


def test_unticked_resolve_leaves_the_original_in_the_inbox(workspace, alice):
    original = failed(workspace)
    rerun = reruns.rerun(
        original,
        start_from="failed",
        step_inputs={"deliver": {"fail_times": 0}},
        resolve_original=False,
        user=alice,
    )
    assert drive(rerun).status == "succeeded"
    original.refresh_from_db()
    assert original.resolved_at is None
    assert inbox.unresolved(workspace).count() == 1


def test_a_rerun_that_fails_resolves_nothing(workspace, alice):
    original = failed(workspace)
    assert drive(reruns.rerun(original, start_from="failed", user=alice)).status == "failed"
    original.refresh_from_db()
    assert original.resolved_at is None
    assert inbox.unresolved(workspace).count() == 2  # the rerun joined it


def test_a_resolution_by_a_person_is_kept(workspace, alice):
    original = failed(workspace)
    original.resolved_at, original.resolution_note = original.ended_at, "fixed by hand"
    original.save()
    rerun = reruns.rerun(original, start_from="failed", step_inputs={"deliver": {"fail_times": 0}})
    assert drive(rerun).status == "succeeded"
    original.refresh_from_db()
    assert original.resolution_note == "fixed by hand" and original.resolved_by_run_id is None


def test_a_skipped_step_is_recorded_with_who_and_the_steps_after_it_run(workspace, alice):
    original = failed(workspace)
    rerun = drive(reruns.rerun(original, start_from="failed", skip=["deliver"], user=alice))
    assert rerun.status == "succeeded"
    deliver = rerun.steps.get(key="deliver")
    assert deliver.status == "skipped" and attempts_of(rerun, "deliver") == []
    assert rerun.steps.get(key="notify").status == "succeeded"
    event = RunEvent.objects.get(run=rerun, type="step.skipped", step_key="deliver")
    assert event.message.startswith("skipped by alice at ")
    # A rerun of that rerun does not carry the skip over
    again = reruns.plan(rerun, start_from="start")
    assert all("skip" not in spec for spec in again.definition["steps"])


def test_unknown_step_or_non_object_input_is_refused(workspace):
    from core.errors import InvalidInput

    original = failed(workspace)
    with pytest.raises(InvalidInput):
        reruns.rerun(original, start_from="failed", skip=["nope"])
    with pytest.raises(InvalidInput):
        reruns.rerun(original, start_from="failed", step_inputs={"deliver": [1]})
