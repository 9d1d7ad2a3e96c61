"""The failures inbox: failed, compensated and flagged runs; group, rerun, resolve."""

from django import forms
from django.contrib import messages
from django.db.models import Count, Max, Q
from django.db.models.fields.json import KT
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from builder.models import Workflow
from core.errors import BrickworkError
from core.models import Role
from core.web import live, started_runs
from core.workspaces import workspace_view
from runner import inbox, reruns
from runner import live as run_changes
from runner.listing import light_runs
from runner.states import RunStatus
from runner.views.runs import RUN_ROWS, keyset_page

MAX_BULK = inbox.MAX_BULK
FAILURE_GROUPS = "failure-groups"  # the grouped view's rows, replaced by live polls


class InboxFilter(forms.Form):
    state = forms.ChoiceField(
        choices=[("open", "Unresolved"), ("resolved", "Resolved"), ("all", "All")],
        required=False,
    )
    kind = forms.ChoiceField(
        choices=[
            ("", "Any kind"),
            (RunStatus.FAILED, "Failed"),
            (RunStatus.COMPENSATED, "Compensated"),
            ("review", "Needs review"),
        ],
        required=False,
        label="Kind",
    )
    workflow = forms.ModelChoiceField(queryset=Workflow.objects.none(), required=False)
    error = forms.CharField(required=False, max_length=500, label="Error message")
    # "Show runs" of a group: the runs that failed like this one (same step, same message),
    # by id, so that a message of any length makes a short link.
    like = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["workflow"].queryset = Workflow.objects.filter(workspace=workspace)
        self.fields["workflow"].empty_label = "Any workflow"

    def clean_like(self):
        """The error of the run named by `like`: {"run", "step", "message"}, or None."""
        run_id = self.cleaned_data["like"]
        if run_id is None:
            return None
        found = inbox.failures(self.workspace).filter(id=run_id).values_list("error").first()
        if found is None:
            raise forms.ValidationError("No such failed run.")
        error = found[0] if isinstance(found[0], dict) else {}
        return {"run": run_id, "step": error.get("step"), "message": error.get("message")}

    def apply(self, runs):
        data = self.cleaned_data if self.is_bound else {}
        state = data.get("state") or "open"
        if state == "open":
            runs = runs.filter(resolved_at__isnull=True)
        elif state == "resolved":
            runs = runs.filter(resolved_at__isnull=False)
        if data.get("kind") == "review":
            runs = runs.filter(needs_review=True)
        elif data.get("kind"):
            runs = runs.filter(status=data["kind"])
        if data.get("workflow"):
            runs = runs.filter(workflow=data["workflow"])
        if data.get("error"):
            runs = runs.filter(error__message=data["error"])
        if like := data.get("like"):
            for key in ("step", "message"):
                runs = runs.filter(_error_is(key, like[key]))
        return runs


def _error_is(key, value):
    """`error.<key>` equals `value`; None stands for missing or null, as in the grouping."""
    if value is None:
        missing = Q(error__isnull=True) | Q(**{f"error__{key}__isnull": True})
        return missing | Q(**{f"error__{key}": None})
    return Q(**{f"error__{key}": value})


class BulkForm(forms.Form):
    runs = forms.ModelMultipleChoiceField(
        queryset=None, error_messages={"required": "Select at least one run."}
    )
    action = forms.ChoiceField(choices=[("rerun", "Rerun"), ("resolve", "Resolve")])
    version = forms.ChoiceField(
        choices=[("pinned", "Their pinned version"), ("latest", "The latest version")],
        required=False,
        initial="pinned",
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["runs"].queryset = inbox.failures(workspace)

    def clean_runs(self):
        runs = self.cleaned_data["runs"]
        if len(runs) > MAX_BULK:
            raise forms.ValidationError(f"At most {MAX_BULK} runs at a time.")
        return runs

    def clean(self):
        data = super().clean()
        if data.get("action") == "resolve" and not (data.get("note") or "").strip():
            self.add_error("note", "Say how it was resolved: the note stays with the runs.")
        return data


def error_groups(runs):
    """The failures among `runs` grouped by step and message: most runs first."""
    return list(
        runs.values(step=KT("error__step"), message=KT("error__message"))
        .annotate(count=Count("id"), last=Max("id"))
        .order_by("-count", "-last")[:100]
    )


def inbox_poller(request, cursor):
    """The inbox's poller (runner/views/live.py answers it) from `cursor` on."""
    url = reverse("failure_list_live", args=[request.workspace.slug])
    rows = None if request.GET.get("group") == "error" else RUN_ROWS
    return live.poller(request, url, cursor, rows)


def _inbox_context(request, bulk=None):
    form = InboxFilter(request.GET or None, workspace=request.workspace)
    runs = light_runs(inbox.failures(request.workspace))
    groups, page, cursors, live_poller = [], [], {}, None
    if not form.is_bound or form.is_valid():
        runs = form.apply(runs)
        data = form.cleaned_data if form.is_bound else {}
        if data.get("before") is None and data.get("after") is None:
            # Read before the rows: the first poll then sees whatever changed after them.
            live_poller = inbox_poller(request, run_changes.marker())
        if request.GET.get("group") == "error":
            groups = error_groups(runs)
        else:
            page, cursors = keyset_page(runs, data.get("before"), data.get("after"))
    return {
        "form": form,
        "like": form.cleaned_data.get("like") if form.is_bound and form.is_valid() else None,
        "bulk": bulk or BulkForm(workspace=request.workspace),
        "runs": page,
        "cursors": cursors,
        "groups": groups,
        "grouped": request.GET.get("group") == "error",
        # The filters in links: for the pager, the List/Group switch, "Show every failure"
        # and a group's "Show runs".
        "query": _query_without(request, "before", "after"),
        "ungrouped_query": _query_without(request, "before", "after", "group"),
        "unliked_query": _query_without(request, "before", "after", "like"),
        "group_query": group_query(request),
        "groups_id": FAILURE_GROUPS,
        "started_here": started_runs.started_here(request),
        "live": live_poller,
    }


def group_query(request):
    """The filters a group's "Show runs" link keeps."""
    return _query_without(request, "before", "after", "group", "like")


def _query_without(request, *keys):
    query = request.GET.copy()
    keys = (*keys, "cursor", "shown")
    for key in keys:
        query.pop(key, None)
    return query.urlencode()


@require_GET
@workspace_view()
def failure_list(request):
    context = _inbox_context(request)
    return render(
        request, "runner/failures.html", context, status=400 if context["form"].errors else 200
    )


@require_POST
@workspace_view(min_role=Role.EDITOR)
def failure_bulk(request):
    bulk = BulkForm(request.POST, workspace=request.workspace)
    if not bulk.is_valid():
        context = _inbox_context(request, bulk)
        return render(request, "runner/failures.html", context, status=422)
    runs = list(bulk.cleaned_data["runs"])
    if bulk.cleaned_data["action"] == "resolve":
        note = bulk.cleaned_data["note"].strip()
        ids = [run.id for run in runs]
        inbox.resolve(request.workspace, ids, note)
        messages.success(request, f"Resolved {len(ids)} run{'s' if len(ids) != 1 else ''}.")
    else:
        started, refused = [], []
        for run in runs:
            start_from = (
                "failed" if run.status in (RunStatus.FAILED, RunStatus.COMPENSATED) else "start"
            )
            try:
                version = bulk.cleaned_data["version"] or "pinned"
                new = reruns.rerun(run, start_from=start_from, version=version, user=request.user)
                started.append(new.id)
                started_runs.remember(request, new.id)
            except BrickworkError as error:
                refused.append(f"#{run.id}: {error}")
        if started:
            listed = ", ".join(f"#{n}" for n in started)
            messages.success(request, f"Started {len(started)} rerun(s): {listed}.")
        for message in refused:
            messages.error(request, message)
    return redirect("failure_list", request.workspace.slug)
