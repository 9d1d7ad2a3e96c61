"""The runs list as CSV or JSON lines, with the list's filters, streamed.

Rows are read in keyset batches (newest first, `id < last`) and written as they come, so
an export of 100,000 runs holds one batch in memory, never the whole file. Inputs and
errors are masked (core/masking.py) as on the pages.
"""

import csv
import json

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.masking import mask
from core.models import Secret
from core.workspaces import workspace_view
from runner.views.runs import filtered_runs, render_list

BATCH = 500
COLUMNS = (
    "id", "status", "workflow", "action", "trigger", "created_at", "started_at", "ended_at",
    "rerun_of", "error_step", "error_message", "input",
)  # fmt: skip
FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl"),
}


@require_GET
@workspace_view()
def run_export(request):
    form, runs = filtered_runs(request)
    wanted = request.GET.get("format", "csv")
    if runs is None or wanted not in FORMATS:
        if runs is not None:
            form.add_error(None, "Export as csv or jsonl.")
        return render_list(request, form, None)
    secrets = tuple(Secret.values_of(request.workspace.id).values())
    records = (_record(row, secrets) for row in batches(runs))
    lines = _csv_lines(records) if wanted == "csv" else _json_lines(records)
    content_type, extension = FORMATS[wanted]
    response = StreamingHttpResponse(lines, content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    name = f"runs-{request.workspace.slug}-{stamp}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def batches(runs, size=BATCH):
    """Every run of `runs` as a dict, newest first, one query per `size` rows."""
    fields = ("id", "status", "trigger", "created_at", "started_at", "ended_at")
    fields += ("rerun_of_id", "input", "error", "workflow__name", "action__name")
    last = None
    while True:
        page = runs.order_by("-id") if last is None else runs.filter(id__lt=last).order_by("-id")
        rows = list(page.values(*fields)[:size])
        yield from rows
        if len(rows) < size:
            return
        last = rows[-1]["id"]


def _record(row, secrets):
    error = mask(row["error"], secrets) if isinstance(row["error"], dict) else {}
    return {
        "id": row["id"],
        "status": row["status"],
        "workflow": row["workflow__name"],
        "action": row["action__name"],
        "trigger": row["trigger"],
        "created_at": _iso(row["created_at"]),
        "started_at": _iso(row["started_at"]),
        "ended_at": _iso(row["ended_at"]),
        "rerun_of": row["rerun_of_id"],
        "error_step": error.get("step"),
        "error_message": error.get("message"),
        "input": mask(row["input"], secrets),
    }


def _iso(value):
    return value.isoformat() if value is not None else None


class _Line:
    """csv.writer's file: hands back each line instead of keeping it."""

    def write(self, value):
        return value


def _csv_lines(records):
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    for record in records:
        record["input"] = json.dumps(record["input"], separators=(",", ":"))
        yield writer.writerow([_cell(record[column]) for column in COLUMNS])


def _cell(value):
    """A spreadsheet must not run a cell as a formula (CSV injection): text that starts
    like one is quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _json_lines(records):
    for record in records:
        yield json.dumps(record, separators=(",", ":")) + "\n"
