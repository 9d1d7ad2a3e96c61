""" "Test this step": run one step's action once, through the real engine and worker.

The test is a run of that action (a one-step run, trigger `test`) whose run input is the
sample data: `{"input": <sample run input>, "steps": {<key>: {"output": ...}}}`. The
step's references are rewritten to read from it (`{{ input.x }}` becomes
`{{ input.input.x }}`), so the engine renders them as it renders any run, once, and
`{{ secrets.* }}` stay for the worker to fill: no secret passes through this view.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from builder import draft as drafts
from builder.definition import validate
from builder.palette import resolve
from builder.step_form import parse_json_field
from builder.views.common import get_workflow
from builder.views.reference_sources import last_outputs
from core import references
from core.errors import InvalidDefinition, InvalidInput
from core.masking import mask
from core.models import Role, Secret
from core.workspaces import workspace_view
from runner import launch
from runner.models import Run
from runner.states import Trigger

SAMPLE_ROOTS = ("input", "steps")  # the roots the sample data stands in for


@workspace_view(min_role=Role.EDITOR)
@require_POST
def test_step(request, slug, index):
    workflow = get_workflow(request, slug)
    steps = drafts.steps_of(workflow.draft)
    if not 0 <= index < len(steps):
        raise Http404("No such step")
    step = steps[index]
    version = resolve(step.get("action"), request.workspace)
    if step.get("type", "action") != "action" or version is None:
        return _failed(request, "Choose an action for this step first.")
    errors = {}
    value = parse_json_field(request.POST.get("input", ""), "the input", errors)
    sample = parse_json_field(request.POST.get("sample_input", ""), "the sample input", errors)
    if errors:
        return _failed(request, "; ".join(f"{where}: {m[0]}" for where, m in errors.items()))
    if not isinstance(sample, dict):
        return _failed(request, "The sample run input must be a JSON object.")
    data = {"input": sample, "steps": {k: {"output": o} for k, o in last_outputs(workflow).items()}}
    try:
        references.render(value, data, keep=("secrets", "run"))
    except references.MissingReference as error:
        return _failed(
            request,
            f"Nothing at {error.path!r} to test with: add it to the sample run input, "
            "or run the workflow once so its steps have outputs.",
        )
    key = drafts.key_of(step) or "step"
    test = {"key": key, "action": version.ref, "input": _from_sample(value)}
    try:
        definition = validate({"name": f"Test of {key}", "steps": [test]}, request.workspace)
        run = launch.start_run(
            workspace=request.workspace,
            definition=definition,
            input=data,
            trigger=Trigger.TEST,
            action=version.action,
            user=request.user,
        )
    except (InvalidDefinition, InvalidInput) as error:
        found = [f"{path}: {m[0]}" if path else m[0] for path, m in error.fields.items()]
        return _failed(request, "The step cannot run: " + "; ".join(found))
    return _result(request, run)


@workspace_view()
@require_GET
def test_result(request, run_id):
    """The test run's state, polled by the panel until it ends."""
    run = get_object_or_404(Run, workspace=request.workspace, id=run_id, trigger=Trigger.TEST)
    return _result(request, run)


def _result(request, run):
    secrets = Secret.values_of(request.workspace.id).values()
    context = {
        "run": run,
        "output": mask(run.output, secrets),
        "error": mask(run.error, secrets),
    }
    return render(request, "builder/_test_result.html", context)


def _failed(request, message):
    return render(request, "builder/_test_result.html", {"problem": message})


def _from_sample(value):
    """The input with its `input.*` and `steps.*` references pointed into the sample data."""
    if isinstance(value, str):
        return references.REFERENCE.sub(_repoint, value)
    if isinstance(value, dict):
        return {key: _from_sample(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_sample(item) for item in value]
    return value


def _repoint(match):
    path = match.group(1).strip()
    if path.split(".", 1)[0] in SAMPLE_ROOTS:
        return "{{ input." + path + " }}"
    return match.group(0)
