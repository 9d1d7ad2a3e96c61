"""A for-each step's items, a page at a time: counts by status, a status filter (failures
only), and each item's value, attempts, duration, error and compensation.

A constant number of queries whatever the number of items: the step, the counts (one
grouped query), the page of items, and the compensations of that page's items.
"""

import json

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.masking import mask
from core.templatetags.brickwork import duration
from core.workspaces import workspace_view
from runner.models import StepRun
from runner.states import StepKind, StepStatus
from runner.views.run import _secrets, get_run

PER_PAGE = 50
FILTERS = ("failures", *StepStatus.values)


@require_GET
@workspace_view()
def item_list(request, run_id, key):
    run = get_run(request, run_id, data=False)  # its output may be every item's
    if "for_each" not in _spec(run, key):
        raise Http404("No such for-each step")
    step = (
        StepRun.objects.filter(run=run, key=key, kind=StepKind.ACTION, parent__isnull=True)
        .only("id", "key", "status", "error", "started_at", "ended_at", "run_id")
        .first()
    )
    if step is None:
        raise Http404("No such step")
    only = request.GET.get("only", "")
    only = only if only in FILTERS else ""
    items = StepRun.objects.filter(parent_id=step.id, kind=StepKind.ITEM)
    counts = dict(items.values_list("status").annotate(n=Count("id")))
    total = sum(counts.values())
    shown = items
    if only == "failures":
        shown = items.filter(status=StepStatus.FAILED)
    elif only:
        shown = items.filter(status=only)
    shown = shown.order_by("item_index").values(
        "id", "item_index", "item", "status", "attempt_count", "started_at", "ended_at",
        "reused_from_id", "error__type", "error__message",
    )  # fmt: skip
    # The count comes from the grouped counts above: no COUNT query of its own.
    matching = (
        total if not only else counts.get(StepStatus.FAILED if only == "failures" else only, 0)
    )
    page = _page(Paginator(_Counted(shown, matching), PER_PAGE), request.GET.get("page"))
    rows = list(page.object_list)
    undone = dict(
        StepRun.objects.filter(
            compensates_id__in=[row["id"] for row in rows], kind=StepKind.COMPENSATION
        ).values_list("compensates_id", "status")
    )
    secrets = _secrets(request)
    for row in rows:
        row["item_text"] = json.dumps(mask(row["item"], secrets), ensure_ascii=False)
        row["error"] = mask(row["error__message"], secrets)
        row["undone"] = undone.get(row["id"], "")
        if row["started_at"] and row["ended_at"]:
            row["took"] = duration((row["ended_at"] - row["started_at"]).total_seconds())
    context = {
        "run": run,
        "step": step,
        "counts": [(s, counts[s]) for s in StepStatus.values if s in counts],
        "total": total,
        "shown": only,  # ("only" in a template reads as an on* handler to the CSP check)
        "page": page,
        "rows": rows,
        "spec": _spec(run, key),
    }
    return render(request, "runner/items.html", context)


def _spec(run, key):
    for spec in run.definition.get("steps", []):
        if isinstance(spec, dict) and spec.get("key") == key:
            return spec
    raise Http404("No such step")


def _page(paginator, number):
    try:
        return paginator.page(number or 1)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)


class _Counted:
    """A queryset whose length is already known: the paginator slices it, never counts."""

    def __init__(self, queryset, count):
        self.queryset, self.known = queryset, count

    def count(self):
        return self.known

    def __len__(self):
        return self.known

    def __getitem__(self, index):
        return self.queryset[index]
