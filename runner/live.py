"""What a live list of runs needs: which runs of a workspace changed since a cursor.

Every change a list shows (a run created, a status moved, a run flagged for review) is a
RunEvent, so the cursor is an event id: one indexed read answers a quiet poll, and no
history is counted again.
"""

from dataclasses import dataclass

from django.db.models import Max

from core.web import live
from runner.models import RunEvent

MAX_EVENTS = 500  # per poll; a larger burst is read over the next polls


@dataclass(frozen=True)
class Changes:
    run_ids: frozenset[int]
    cursor: int


def marker() -> int:
    """The newest event id: read before a page reads its rows, so its first poll sees
    whatever changed after that."""
    return RunEvent.objects.aggregate(newest=Max("id"))["newest"] or 0


def changed_runs(workspace, since: int) -> Changes:
    """The runs of `workspace` with an event after `since`, and the cursor to poll from next.

    The read walks the log itself, every workspace's events, not only this one's: a
    filter on the workspace would scan, at every poll, everything the others did since
    this workspace last changed. This way a poll reads at most MAX_EVENTS rows, and the
    cursor moves past the others' events too.
    """
    rows = list(
        RunEvent.objects.filter(id__gt=since)
        .order_by("id")
        .values_list("id", "run_id", "run__workspace_id", "created_at")[:MAX_EVENTS]
    )
    cursor = live.advance(since, [(row_id, created) for row_id, _, _, created in rows])
    mine = frozenset(run_id for _, run_id, owner, _ in rows if owner == workspace.id)
    return Changes(mine, cursor)
