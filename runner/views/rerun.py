"""Rerun a finished run: from the start or the failed step, pinned or latest, same or new input."""

import json

from django import forms
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from core.errors import InvalidInput, InvalidTransition
from core.masking import mask
from core.models import Role, Secret
from core.web.schema_form import parse_json
from core.workspaces import workspace_view
from runner import action_runs, reruns
from runner.models import StepRun
from runner.states import RunStatus, StepKind, StepStatus
from runner.views.run import get_run

HAS_FAILED_STEP = (RunStatus.FAILED, RunStatus.COMPENSATED, RunStatus.CANCELLED)


class RerunForm(forms.Form):
    start_from = forms.ChoiceField(
        choices=[("failed", "From the failed step"), ("start", "From the start")],
        widget=forms.RadioSelect,
    )
    version = forms.ChoiceField(
        choices=[("pinned", "Pinned version"), ("latest", "Latest version")],
        widget=forms.RadioSelect,
        initial="pinned",
    )
    input_mode = forms.ChoiceField(
        choices=[("original", "Original input"), ("edited", "Edited input")],
        widget=forms.RadioSelect,
        initial="original",
        label="Input",
    )
    input = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False)

    def __init__(self, *args, run, **kwargs):
        super().__init__(*args, **kwargs)
        self.run = run
        self.fields["start_from"].initial = "failed" if run.status in HAS_FAILED_STEP else "start"
        # Shown masked: a run's input may carry a secret's value ("Original input" keeps it).
        secrets = Secret.values_of(run.workspace_id).values()
        self.fields["input"].initial = json.dumps(mask(run.input, secrets), indent=2)

    def clean_start_from(self):
        value = self.cleaned_data["start_from"]
        if value == "failed" and self.run.status not in HAS_FAILED_STEP:
            raise forms.ValidationError("This run has no failed step: rerun it from the start.")
        return value

    def clean(self):
        data = super().clean()
        if data.get("input_mode") != "edited":
            data["parsed_input"] = None
            return data
        try:
            parsed = parse_json(data.get("input") or "")
        except forms.ValidationError as error:
            self.add_error("input", error)
            return data
        if not isinstance(parsed, dict):
            self.add_error("input", 'The input must be a JSON object, like {"key": "value"}.')
            return data
        data["parsed_input"] = parsed
        return data


def ledger(run):
    """What a rerun from the failed step keeps, and which side effects already happened.

    One row per action step that succeeded: whether its output is reused, whether its
    action touches the outside world (everything but debug.*), and whether a compensation
    undid it.
    """
    steps = list(StepRun.objects.filter(run=run).select_related("action_version__action"))
    reused = reruns.reusable_steps(run, run.definition) if run.status in HAS_FAILED_STEP else {}
    undo = {s.compensates_id: s for s in steps if s.kind == StepKind.COMPENSATION}
    rows = []
    for step in steps:
        if step.kind != StepKind.ACTION or step.status != StepStatus.SUCCEEDED:
            continue
        if step.action_version is None:
            continue  # a switch: decided by the engine, no side effect to speak of
        compensation = undo.get(step.id)
        rows.append(
            {
                "key": step.key,
                "ref": step.action_version.ref,
                "reused": step.key in reused,
                "side_effects": not step.action_version.action.name.startswith("debug."),
                "compensation": compensation.status if compensation else None,
            }
        )
    return rows


def _latest_label(run):
    if run.workflow_id:
        latest = run.workflow.latest_version()
        return f"v{latest.number}" if latest else None
    if run.action_id:
        latest = run.action.latest_version()
        return latest.ref if latest else None
    return None


@require_http_methods(["GET", "POST"])
@workspace_view(min_role=Role.EDITOR)
def run_rerun(request, run_id):
    run = get_run(request, run_id)
    form = RerunForm(request.POST if request.method == "POST" else None, run=run)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # A run of one action maps its input field by field: its own helper rebuilds
            # that mapping for an edited input.
            rerun = action_runs.rerun if run.action_id else reruns.rerun
            new = rerun(
                run,
                start_from=data["start_from"],
                version=data["version"],
                input=data["parsed_input"],
                user=request.user,
            )
        except InvalidInput as invalid:
            for path, messages in invalid.fields.items():
                field = "input" if path.startswith("input") else None
                for message in messages:
                    form.add_error(field, f"{path}: {message}" if field else message)
        except InvalidTransition as error:
            form.add_error(None, str(error))
        else:
            url = redirect("run_detail", request.workspace.slug, new.id).url
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {
        "run": run,
        "form": form,
        "ledger": ledger(run),
        "has_failed_step": run.status in HAS_FAILED_STEP,
        "latest": _latest_label(run),
    }
    template = "runner/rerun.html#dialog" if request.htmx else "runner/rerun.html"
    return render(request, template, context, status=422 if form.errors else 200)
