"""Reruns: a new run linked to an earlier one, from the start or from the failed step.

A rerun is just a new run (runner/engine.py `start_run`) that may reuse succeeded steps'
outputs, as a Step Functions redrive does; nothing here changes a status itself.
"""

from dataclasses import dataclass

from django.utils import timezone

from core import key_order, references
from core.errors import InvalidInput, InvalidTransition
from runner import decisions, waits
from runner.launch import start_run
from runner.states import RunStatus, StepKind, StepStatus, Trigger


def rerun(
    run,
    *,
    start_from="start",
    version="pinned",
    input=None,
    step_inputs=None,
    skip=(),
    resolve_original=True,
    user=None,
    trigger=None,
):
    """Start a new run linked to `run` (what it runs: `plan`).

    With `resolve_original`, the rerun's success marks `run` resolved, with a note
    linking the two (runner/transition.py `resolve_original`).
    """
    chosen = plan(
        run,
        start_from=start_from,
        version=version,
        input=input,
        step_inputs=step_inputs,
        skip=skip,
        user=user,
    )
    return start_run(
        workspace=run.workspace,
        definition=chosen.definition,
        input=chosen.input,
        trigger=trigger or Trigger.RERUN,
        workflow=run.workflow,
        workflow_version=chosen.workflow_version,
        action=run.action,
        user=user,
        rerun_of=run,
        rerun_from=start_from,
        reuse=chosen.reuse,
        resolve_original=resolve_original,
    )


@dataclass(frozen=True)
class Plan:
    """What a rerun would run: its definition, version and input, and the steps of the
    original whose outputs it keeps ({key: StepRun})."""

    definition: dict
    workflow_version: object
    input: dict
    reuse: dict


def plan(
    run, *, start_from="start", version="pinned", input=None, step_inputs=None, skip=(), user=None
) -> Plan:
    """The rerun of `run` these choices make, without starting it (the dialog's ledger
    shows it before the person commits to it).

    `start_from="failed"` reuses the outputs of the steps that succeeded (and were not
    compensated) when the new definition has them unchanged, as a Step Functions redrive
    does; `version="latest"` takes the workflow's newest published version.
    `step_inputs` ({key: input}) replaces steps' inputs (the failed step's, edited in the
    dialog); `skip` lists steps a person skips: recorded with who and when, and the steps
    after them run.
    """
    if start_from not in ("start", "failed"):
        raise InvalidInput({"from": ["must be start or failed"]})
    if version not in ("pinned", "latest"):
        raise InvalidInput({"version": ["must be pinned or latest"]})
    if start_from == "failed" and run.status not in (
        RunStatus.FAILED,
        RunStatus.COMPENSATED,
        RunStatus.CANCELLED,
    ):
        raise InvalidTransition("only a failed, compensated or cancelled run has a failed step")
    # In the order it was written in (core/key_order.py): the rerun's steps render so too.
    definition, workflow_version = key_order.ordered(run, "definition"), run.workflow_version
    if version == "latest" and run.workflow_id:
        latest = run.workflow.latest_version()
        if latest is not None:
            definition, workflow_version = latest.definition, latest
    elif version == "latest" and run.action_id:
        newest = run.action.latest_version()
        definition = {**definition, "steps": [{**definition["steps"][0], "action": newest.ref}]}
    definition = _with_choices(definition, step_inputs or {}, skip, user)
    new_input = key_order.ordered(run, "input") if input is None else input
    reuse = reusable_steps(run, definition, new_input) if start_from == "failed" else {}
    return Plan(definition, workflow_version, new_input, reuse)


def _with_choices(definition, step_inputs, skip, user):
    """The definition with the edited inputs and the person's skips written in; a skip
    chosen for an earlier run is not carried over."""
    keys = {spec["key"] for spec in definition["steps"] if spec.get("action")}
    unknown = [key for key in [*step_inputs, *skip] if key not in keys]
    if unknown:
        raise InvalidInput({"steps": [f"no action step {key} in this version" for key in unknown]})
    for key, value in step_inputs.items():
        if not isinstance(value, dict):
            raise InvalidInput({f"steps.{key}.input": ["must be a JSON object"]})
    marker = {"by": getattr(user, "username", "") or "the API", "at": timezone.now().isoformat()}
    steps = []
    for spec in definition["steps"]:
        spec = {k: v for k, v in spec.items() if k != "skip"}
        if spec["key"] in step_inputs:
            spec["input"] = step_inputs[spec["key"]]
        if spec["key"] in skip:
            spec["skip"] = marker
        steps.append(spec)
    return {**definition, "steps": steps}


# What makes a step the same step in another definition (on_error only matters on failure).
SAME_FIELDS = ("type", "action", "input", "after", "after_any", "when", "cases", "default")
# A wait is the same wait when these are: a sleep that ended, an event that arrived or an
# approval given is not waited for again by a rerun from the failed step.
SAME_WAIT_FIELDS = ("for_s", "until", "event", "role", "timeout_s", "on_timeout")


def reusable_steps(run, definition, input=None):
    """{key: StepRun} of `run` whose output a rerun from the failed step can keep.

    A step qualifies when it succeeded, was not undone by a compensation, is defined the
    same way in `definition`, every step it runs after qualifies too, and its input,
    rendered from the rerun's `input` (default: the original input), is what it was: an
    edited input re-runs exactly the steps that depend on the edit.
    """
    input = run.input if input is None else input
    old_specs = {spec["key"]: spec for spec in run.definition["steps"]}
    steps = list(run.steps.filter(parent__isnull=True))  # a for-each's items: for_each.py
    undone = {
        s.compensates_id
        for s in steps
        if s.kind == StepKind.COMPENSATION and s.status == StepStatus.SUCCEEDED
    }
    succeeded = {
        s.key: s
        for s in steps
        if s.kind == StepKind.ACTION and s.status == StepStatus.SUCCEEDED and s.id not in undone
    }
    reuse = {}
    pending = [spec for spec in definition["steps"] if spec["key"] in succeeded]
    progress = True
    while progress:  # parents first, whatever order the definition lists them in
        progress = False
        for spec in list(pending):
            if not all(parent in reuse for parent in spec["after"]):
                continue
            pending.remove(spec)
            if _same_step(old_specs.get(spec["key"]), spec, succeeded[spec["key"]], input, reuse):
                reuse[spec["key"]] = succeeded[spec["key"]]
                progress = True
    return reuse


def _same_step(old, new, step, input, reused):
    if old is None or any(old.get(f) != new.get(f) for f in SAME_FIELDS):
        return False
    scope = references.context(
        input=input,
        run={"id": step.run_id, "scheduled_for": None},  # a rerun is never scheduled
        steps=((key, StepStatus.SUCCEEDED, s.output, None) for key, s in reused.items()),
    )
    # A decision is kept only if it would be taken again: a condition that would now be
    # false, or a switch that would choose another case, is decided afresh.
    if decisions.condition(new, scope).action != "go":
        return False
    if decisions.is_switch(new):
        return decisions.choose_case(new, scope)[0] == step.output
    if waits.is_wait(new):
        return all(old.get(f) == new.get(f) for f in SAME_WAIT_FIELDS)
    try:
        rendered = references.render(new.get("input", {}), scope, keep=("secrets",))
    except references.MissingReference:
        return False
    # run.id differs between runs by design: compare as if the ids matched.
    return rendered == step.input
