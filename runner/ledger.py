"""The side-effect ledger a rerun dialog shows: what already touched the outside world,
and what the chosen rerun would reuse or do again.

It is read from what the actions declare (`@action(pure=True)`: no side effects; every
other action, HTTP and script actions included, may have them) and from the rerun's own
plan (runner/reruns.py `plan`): the version, the start and the inputs chosen.
"""

from dataclasses import dataclass

from core.actions.registry import is_pure
from runner import run_state
from runner.models import StepRun
from runner.states import StepKind, StepStatus

# What the rerun does with a step.
REUSED = "reused"
RUNS = "runs again"
SKIPPED = "skipped"
GONE = "not in this version"
NEW = "runs (new)"


@dataclass(frozen=True)
class Row:
    key: str
    ref: str  # the action the original ran (or, for a new step, the rerun will run)
    status: str  # the step's status in the original ("" for a step new in the version)
    effects_ran: bool  # the original's step ran an action that declares side effects
    fate: str  # REUSED, RUNS, SKIPPED, GONE or NEW
    effects_again: bool  # the rerun runs an action with side effects for this step
    compensation: str | None  # the status of the compensation that undid it, if any


def ledger(run, plan) -> list[Row]:
    """One row per action step of `run` that started (or of the rerun's definition): the
    original's steps in their order, then the steps only the rerun has."""
    steps = list(StepRun.objects.filter(run=run).select_related("action_version__action"))
    undo = {s.compensates_id: s.status for s in steps if s.kind == StepKind.COMPENSATION}
    new_specs = {spec["key"]: spec for spec in plan.definition["steps"]}
    versions = run_state.pin_action_versions(plan.definition, run.workspace)
    rows, seen = [], {}
    for step in steps:
        if step.kind != StepKind.ACTION or step.action_version is None:
            continue  # compensations are shown with their step; a switch has no action
        seen[step.key] = step.status
        started = step.status in (StepStatus.SUCCEEDED, StepStatus.FAILED)
        if not started and step.key in new_specs:
            continue  # never ran: listed below with the rerun's steps
        fate, again = _fate(step.key, new_specs, plan, versions)
        rows.append(
            Row(
                key=step.key,
                ref=step.action_version.ref,
                status=step.status,
                effects_ran=started and not is_pure(step.action_version),
                fate=fate,
                effects_again=again,
                compensation=undo.get(step.id),
            )
        )
    ran = {row.key for row in rows}
    for key, spec in new_specs.items():
        if key in ran or not spec.get("action"):
            continue
        fate, again = _fate(key, new_specs, plan, versions)
        rows.append(
            Row(
                key=key,
                ref=spec["action"],
                status=seen.get(key, ""),
                effects_ran=False,
                fate=NEW if fate == RUNS and key not in seen else fate,
                effects_again=again,
                compensation=None,
            )
        )
    return rows


def _fate(key, new_specs, plan, versions):
    spec = new_specs.get(key)
    if spec is None:
        return GONE, False
    if key in plan.reuse:
        return REUSED, False
    if spec.get("skip"):
        return SKIPPED, False
    version = versions.get(spec.get("action"))
    return RUNS, version is not None and not is_pure(version)
