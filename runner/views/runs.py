"""The runs list: filters, and keyset pagination on id that stays fast at any depth."""

from datetime import timedelta

from django import forms
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from builder.models import Workflow
from core.web import live, started_runs
from core.workspaces import workspace_view
from runner import live as run_changes
from runner import run_search
from runner.listing import light_runs
from runner.models import Run
from runner.states import RunStatus, Trigger

PAGE_SIZE = 50
RUN_ROWS = "run-rows"  # the tbody live polls insert rows into
SINCE = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
SINCE["30d"] = timedelta(days=30)


class RunFilter(forms.Form):
    workflow = forms.ModelChoiceField(queryset=Workflow.objects.none(), required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *RunStatus.choices], required=False)
    trigger = forms.ChoiceField(choices=[("", "Any trigger"), *Trigger.choices], required=False)
    since = forms.ChoiceField(
        choices=[("", "Any time"), ("1h", "Last hour"), ("24h", "Last 24 hours")]
        + [("7d", "Last 7 days"), ("30d", "Last 30 days")],
        required=False,
        label="Time",
    )
    q = forms.CharField(
        required=False,
        max_length=run_search.MAX_LENGTH,
        label="Input",
        widget=forms.TextInput(attrs={"placeholder": "input.customer_id = 42"}),
    )
    error = forms.CharField(required=False, max_length=200, label="Error text")
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workflow"].queryset = Workflow.objects.filter(workspace=workspace).only(
            "id", "name"
        )
        self.fields["workflow"].empty_label = "Any workflow"

    def clean_q(self):
        try:
            return run_search.parse(self.cleaned_data["q"])
        except run_search.SearchError as error:
            raise forms.ValidationError(str(error)) from None

    def apply(self, runs):
        data = self.cleaned_data
        if data["q"]:
            runs = run_search.matching(runs, data["q"])
        if data["error"]:
            runs = runs.filter(error__message__icontains=data["error"])
        if data["workflow"]:
            runs = runs.filter(workflow=data["workflow"])
        if data["status"]:
            runs = runs.filter(status=data["status"])
        if data["trigger"]:
            runs = runs.filter(trigger=data["trigger"])
        if data["since"]:
            runs = runs.filter(created_at__gte=timezone.now() - SINCE[data["since"]])
        return runs


def keyset_page(runs, before=None, after=None, size=PAGE_SIZE):
    """One page of `runs`, newest first, and the ids that start the pages around it.

    `before=<id>` pages back in time, `after=<id>` forward; both walk the (workspace, -id)
    index, so page 2,000 costs what page 1 does (an OFFSET would scan every row before it).
    """
    if after is not None:
        rows = list(runs.filter(id__gt=after).order_by("id")[: size + 1])
        newer = rows[size].id if len(rows) > size else None
        rows = rows[:size][::-1]
        older = rows[-1].id if rows else None
        return rows, {"older": older, "newer": rows[0].id if newer and rows else None}
    if before is not None:
        runs = runs.filter(id__lt=before)
    rows = list(runs.order_by("-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, {
        "older": rows[-1].id if more and rows else None,
        "newer": rows[0].id if before is not None and rows else None,
    }


def filtered_runs(request):
    """(the bound filter form, the workspace's runs it selects or None when invalid)."""
    form = RunFilter(request.GET or None, workspace=request.workspace)
    runs = Run.objects.filter(workspace=request.workspace)
    if form.is_bound and not form.is_valid():
        return form, None
    return form, form.apply(runs) if form.is_bound else runs


def run_poller(request, cursor):
    """The runs page's poller (runner/views/live.py answers it) from `cursor` on."""
    url = reverse("run_list_live", args=[request.workspace.slug])
    return live.poller(request, url, cursor, RUN_ROWS)


def render_list(request, form, runs):
    """The runs page; a 400 with the form's errors when `runs` is None (invalid filters)."""
    poller = None
    if runs is None:
        page, cursors = [], {}
        status = 400
    else:
        data = form.cleaned_data if form.is_bound else {}
        if data.get("before") is None and data.get("after") is None:
            # Read before the rows: the first poll then sees whatever changed after them.
            poller = run_poller(request, run_changes.marker())
        page, cursors = keyset_page(light_runs(runs), data.get("before"), data.get("after"))
        status = 200
    query = request.GET.copy()
    for key in ("before", "after", "format", "cursor", "shown"):
        query.pop(key, None)
    context = {"form": form, "runs": page, "cursors": cursors, "query": query.urlencode()}
    context.update(live=poller, started_here=started_runs.started_here(request))
    template = "runner/runs.html#results" if request.htmx else "runner/runs.html"
    return render(request, template, context, status=status)


@require_GET
@workspace_view()
def run_list(request):
    form, runs = filtered_runs(request)
    return render_list(request, form, runs)
