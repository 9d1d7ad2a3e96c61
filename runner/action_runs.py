"""A run of one action: a one-step workflow, so that every run looks the same.

The step's input is the single reference `{{ input }}`: the engine replaces a string that
is exactly one reference by the value as it is, and never renders that value again, so
the step receives exactly the run input, whatever text (even `{{ ... }}`) it holds.
"""

from builder.definition import validate
from core import schemas
from core.errors import InvalidInput
from core.models import ActionVersion
from runner import launch, reruns
from runner.states import Trigger

STEP_KEY = "run"


def start(version, input, *, workspace, trigger=Trigger.API, user=None):
    """Check `input` against the action version's schema (InvalidInput), then start the run."""
    if not isinstance(input, dict):
        raise InvalidInput({"input": ["must be a JSON object"]})
    schemas.check(version.input_schema, input)
    return launch.start_run(
        workspace=workspace,
        definition=definition(version, workspace),
        input=input,
        trigger=trigger,
        action=version.action,
        user=user,
    )


def rerun(run, *, start_from="start", version="pinned", input=None, user=None, **choices):
    """reruns.rerun for a run of one action, after checking a new input against the schema
    of the version that will run; `choices` go to reruns.rerun as they are."""
    if input is not None:
        latest = version == "latest" and run.action_id
        target = run.action.latest_version() if latest else pinned_version(run)
        schemas.check(target.input_schema, input)
    return reruns.rerun(
        run, start_from=start_from, version=version, input=input, user=user, **choices
    )


def pinned_version(run):
    """The ActionVersion a run of one action is pinned to."""
    ref = run.definition["steps"][0]["action"]
    return ActionVersion.objects.select_related("action").get(id=run.action_versions[ref])


def definition(version, workspace):
    """The one-step definition that hands the run input to `version` untouched."""
    step = {"key": STEP_KEY, "action": version.ref, "input": "{{ input }}"}
    return validate({"name": version.action.name, "steps": [step]}, workspace)
