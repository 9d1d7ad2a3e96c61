"""The audit log page: owners see who did what in the workspace, filtered and paged;
everyone else gets 403 (and no link in the sidebar)."""

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import audit_log
from core.models import Role
from core.workspaces import workspace_view

PAGE_SIZE = 50


def _action_choices():
    """Families first ("every workflow action"), then each action under its family."""
    choices = [("", "Any action")]
    for family, verbs in audit_log.ACTIONS.items():
        group = [(family, f"{family}.*")] + [(f"{family}.{v}", f"{family}.{v}") for v in verbs]
        choices.append((family, group))
    return choices


class AuditFilter(forms.Form):
    action = forms.ChoiceField(choices=_action_choices, required=False)
    actor = forms.CharField(
        max_length=150,
        required=False,
        widget=forms.TextInput({"placeholder": "username or API key name"}),
    )
    object = forms.RegexField(
        regex=audit_log.OBJECT_PATTERN,
        required=False,
        widget=forms.TextInput({"placeholder": "workflow or workflow:12"}),
        error_messages={"invalid": "Write a type (workflow), or type:id (workflow:12)."},
    )
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end is before the start.")
        return data

    def filters(self):
        """The keyword arguments of audit_log.entries; dates are whole days in UTC."""
        data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        return {
            "action": data.get("action", ""),
            "actor": data.get("actor", "").strip(),
            "object": data.get("object", ""),
            "since": datetime.combine(since, time(), UTC) if since else None,
            "until": datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,
        }


@require_GET
@workspace_view()
def audit_list(request):
    if request.role != Role.OWNER:
        raise PermissionDenied("Only owners read the audit log.")
    form = AuditFilter(request.GET or None)
    entries, older, status = [], None, 200
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        filters = form.filters() if form.is_bound else {}
        before = form.cleaned_data.get("before") if form.is_bound else None
        rows = audit_log.entries(request.workspace, **filters)
        entries, older = audit_log.page(rows, before, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "entries": entries,
        "older": older,
        "paged": "before" in request.GET,
        "query": query.urlencode(),
    }
    template = "core/audit.html#results" if request.htmx else "core/audit.html"
    return render(request, template, context, status=status)
