"""Rerun a finished run: from the start or the failed step, pinned or latest, same or new input."""

import json

from django import forms
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from core import references, schemas
from core.errors import InvalidInput, InvalidTransition
from core.masking import mask
from core.models import Role, Secret
from core.web import started_runs
from core.web.schema_form import parse_json
from core.workspaces import workspace_view
from runner import action_runs, ledger, reruns
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
    step_input = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, label="Input of the failed step"
    )
    skip = forms.ChoiceField(required=False, label="Skip a step")
    resolve_original = forms.BooleanField(
        required=False, initial=True, label="Resolve the original when this succeeds"
    )

    def __init__(self, *args, run, **kwargs):
        super().__init__(*args, **kwargs)
        self.run = run
        self.fields["start_from"].initial = "failed" if run.status in HAS_FAILED_STEP else "start"
        # Shown masked: a run's input may carry a secret's value ("Original input" keeps it).
        secrets = Secret.values_of(run.workspace_id).values()
        self.fields["input"].initial = json.dumps(mask(run.input, secrets), indent=2)
        self.failed = failed_step(run)
        self.step_text = ""
        if self.failed is not None and self.failed.input is not None:
            self.step_text = json.dumps(mask(self.failed.input, secrets), indent=2)
        self.fields["step_input"].initial = self.step_text
        keys = [spec["key"] for spec in run.definition["steps"] if spec.get("action")]
        self.fields["skip"].choices = [("", "Skip no step")] + [(key, key) for key in keys]

    def clean_start_from(self):
        value = self.cleaned_data["start_from"]
        if value == "failed" and self.run.status not in HAS_FAILED_STEP:
            raise forms.ValidationError("This run has no failed step: rerun it from the start.")
        return value

    def clean_step_input(self):
        """The failed step's new input, or None when left as it was."""
        text = self.cleaned_data.get("step_input") or ""
        if self.failed is None or not text.strip():
            return None
        parsed = parse_json(text)
        if not isinstance(parsed, dict):
            raise forms.ValidationError('The input must be a JSON object, like {"key": "value"}.')
        if self.step_text and parsed == json.loads(self.step_text):
            return None  # unchanged (and maybe masked): the step renders its input again
        if not list(references.find(parsed)):  # a template is checked once rendered
            try:
                schemas.check(self.failed.action_version.input_schema or {}, parsed)
            except InvalidInput as invalid:
                raise forms.ValidationError(_messages(invalid)) from None
        return parsed

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

    def choices(self, user):
        """The rerun's options (runner/reruns.py) from what is valid so far: the ledger
        follows the dialog as it is being filled in."""
        data = getattr(self, "cleaned_data", {})
        step_input = data.get("step_input")
        return {
            "start_from": data.get("start_from") or self.fields["start_from"].initial,
            "version": data.get("version") or "pinned",
            "input": data.get("parsed_input"),
            "step_inputs": {self.failed.key: step_input} if step_input is not None else None,
            "skip": [data["skip"]] if data.get("skip") else [],
            "user": user,
        }


def _messages(invalid):
    return [
        f"{path}: {message}" for path, messages in invalid.fields.items() for message in messages
    ]


def failed_step(run):
    """The step whose failure ended the run (not one an error route handled), if any."""
    steps = StepRun.objects.filter(
        run=run, kind=StepKind.ACTION, status=StepStatus.FAILED, handled__isnull=True
    ).select_related("action_version__action")
    return steps.order_by("position", "id").first()


def _ledger(run, form, user):
    try:
        return ledger.ledger(run, reruns.plan(run, **form.choices(user)))
    except (InvalidInput, InvalidTransition):
        return ledger.ledger(run, reruns.plan(run, start_from="start"))


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
        choices = form.choices(request.user)
        try:
            # A run of one action maps its input field by field: its own helper rebuilds
            # that mapping for an edited input.
            rerun = action_runs.rerun if run.action_id else reruns.rerun
            new = rerun(run, resolve_original=data["resolve_original"], **choices)
        except InvalidInput as invalid:
            for path, messages in invalid.fields.items():
                field = _field_of(path)
                for message in messages:
                    form.add_error(field, f"{path}: {message}" if field else message)
        except InvalidTransition as error:
            form.add_error(None, str(error))
        else:
            started_runs.remember(request, new.id)
            url = redirect("run_detail", request.workspace.slug, new.id).url
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {
        "run": run,
        "form": form,
        "ledger": _ledger(run, form, request.user),
        "has_failed_step": run.status in HAS_FAILED_STEP,
        "latest": _latest_label(run),
    }
    template = "runner/rerun.html#dialog" if request.htmx else "runner/rerun.html"
    return render(request, template, context, status=422 if form.errors else 200)


def _field_of(path):
    if path.startswith("input"):
        return "input"
    if path.startswith("steps"):
        return "step_input"
    return None


@require_GET
@workspace_view(min_role=Role.EDITOR)
def run_rerun_ledger(request, run_id):
    """The ledger for the choices made so far in the dialog (swapped in as they change)."""
    run = get_run(request, run_id)
    form = RerunForm(request.GET, run=run)
    form.is_valid()
    context = {
        "run": run,
        "ledger": _ledger(run, form, request.user),
        "has_failed_step": run.status in HAS_FAILED_STEP,
    }
    return render(request, "runner/rerun.html#ledger", context)
