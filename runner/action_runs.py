"""A run of one action: a one-step workflow, so that every run looks the same.

The step's input is `{"<field>": "{{ input.<field> }}", ...}`, one reference per field of
the run input, and not the input itself: the engine renders `{{ }}` in a definition, so a
caller's text that happens to contain `{{ ... }}` would be read as a reference. A string
that is exactly one reference is replaced by the value as it is, with its JSON type, and
never rendered again; so the step receives exactly the run input. Field names therefore
must be usable in a reference: letters, digits, `_` and `-`.
"""

import re

from builder.definition import validate
from core import schemas
from core.errors import InvalidInput
from core.models import ActionVersion
from runner import engine
from runner.states import Trigger

FIELD = re.compile(r"^[\w-]+$")
STEP_KEY = "run"


def start(version, input, *, workspace, trigger=Trigger.API, user=None):
    """Check `input` against the action version's schema (InvalidInput), then start the run."""
    schemas.check(version.input_schema, input)
    return engine.start_run(
        workspace=workspace,
        definition=definition(version, input, workspace),
        input=input,
        trigger=trigger,
        action=version.action,
        user=user,
    )


def rerun(run, *, start_from="start", version="pinned", input=None, user=None):
    """engine.rerun for a run of one action; a new input gets its own field mapping.

    The run's definition maps the fields of its *first* input; a new input may have other
    fields, so the definition is rebuilt for it (on the run object only, which is then
    handed to engine.rerun) after a check against the schema of the version that will run.
    """
    if input is not None:
        latest = version == "latest" and run.action_id
        target = run.action.latest_version() if latest else pinned_version(run)
        schemas.check(target.input_schema, input)
        run.definition = definition(target, input, run.workspace)
    return engine.rerun(run, start_from=start_from, version=version, input=input, user=user)


def pinned_version(run):
    """The ActionVersion a run of one action is pinned to."""
    ref = run.definition["steps"][0]["action"]
    return ActionVersion.objects.select_related("action").get(id=run.action_versions[ref])


def definition(version, input, workspace):
    """The one-step definition that hands `input` to `version` untouched (see above)."""
    if not isinstance(input, dict):
        raise InvalidInput({"input": ["must be a JSON object"]})
    bad = [name for name in input if not FIELD.match(name)]
    if bad:
        message = "a field name may only have letters, digits, _ and -"
        raise InvalidInput({f"input.{name}": [message] for name in bad})
    step_input = {name: f"{{{{ input.{name} }}}}" for name in input}
    step = {"key": STEP_KEY, "action": version.ref, "input": step_input}
    return validate({"name": version.action.name, "steps": [step]}, workspace)
