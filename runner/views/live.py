"""The polls of the live run lists (the runs page and the failures inbox).

A poll carries the page's filters, a cursor (an event id: runner/live.py) and the ids of
the rows it shows (static/js/live.js). A quiet poll costs one indexed read and answers
204. Otherwise the answer swaps, out of band, the shown rows that changed (in place,
whatever the filters now say of them) and inserts the changed runs the filters select that
the page does not show yet; a screen reader hears "2 new runs", not the table again.
"""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.web import live, started_runs
from core.workspaces import can_edit
from runner import inbox
from runner import live as run_changes
from runner.listing import light_runs
from runner.models import Run
from runner.views.failures import (
    FAILURE_GROUPS,
    InboxFilter,
    error_groups,
    group_query,
    inbox_poller,
)
from runner.views.runs import PAGE_SIZE, filtered_runs, run_poller


@require_GET
@live.workspace_poll
def run_list_live(request, cursor, shown):
    changes = run_changes.changed_runs(request.workspace, cursor)
    if not changes.run_ids:
        return _moved_on(request, changes, cursor, run_poller)
    _, runs = filtered_runs(request)
    if runs is None:
        return live.refused("These filters are not valid.")
    context = _changed_rows(request, changes, shown, light_runs(runs), noun="run")
    context["live"] = run_poller(request, changes.cursor)
    context["nav_changed"] = True
    return render(request, "runner/_live_runs.html", context)


@require_GET
@live.workspace_poll
def failure_list_live(request, cursor, shown):
    changes = run_changes.changed_runs(request.workspace, cursor)
    if not changes.run_ids:
        return _moved_on(request, changes, cursor, inbox_poller)
    form = InboxFilter(request.GET, workspace=request.workspace)
    if not form.is_valid():
        return live.refused("These filters are not valid.")
    failures = form.apply(light_runs(inbox.failures(request.workspace)))
    grouped = request.GET.get("group") == "error"
    if grouped:
        context = {"new_runs": [], "updated_runs": []}
        if failures.filter(id__in=changes.run_ids).exists():
            context["groups"] = error_groups(failures)
    else:
        context = _changed_rows(request, changes, shown, failures, noun="failure")
        context.update(selectable=can_edit(request), show_error=True)
    context["live"] = inbox_poller(request, changes.cursor)
    context.update(groups_id=FAILURE_GROUPS, group_query=group_query(request))
    context["nav_changed"] = True
    return render(request, "runner/_live_runs.html", context)


def _moved_on(request, changes, cursor, poller):
    """Nothing of this workspace changed: 204, or, when other workspaces' events moved
    the cursor, only the poller that holds the new one."""
    if changes.cursor == cursor:
        return live.nothing_new()
    context = {"live": poller(request, changes.cursor)}
    return render(request, "core/_live_poller.html", context)


def _changed_rows(request, changes, shown, selected, noun):
    """The rows to replace, the rows to insert and the news."""
    in_place = changes.run_ids & shown
    updated = (
        list(light_runs(Run.objects.filter(workspace=request.workspace, id__in=in_place)))
        if in_place
        else []
    )
    # A full first page ends at its oldest row: an older run belongs to the next page.
    floor = min(shown) if len(shown) >= PAGE_SIZE else 0
    candidates = [run_id for run_id in changes.run_ids - shown if run_id > floor]
    arrived = list(selected.filter(id__in=candidates).order_by("-id")) if candidates else []
    count = len(arrived)
    return {
        "updated_runs": updated,
        "new_runs": arrived,
        "news": f"{count} new {noun}{'s' if count != 1 else ''}" if count else "",
        "started_here": started_runs.started_here(request),
    }
