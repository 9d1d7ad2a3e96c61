"""The cursor of a live list's poll (`?cursor=<id>`): how far the page has seen a log.

A log's ids are handed out when rows are inserted, but transactions commit in their own
order: row 41 may become visible after row 42. A cursor that jumped to 42 would never
show 41. So the cursor only moves past rows older than SETTLE (every transaction that
wrote an older row has committed long since); newer ones are read again on the next
poll, which is harmless, as a live list replaces a row it already shows.
"""

import functools
from datetime import timedelta

from django.http import HttpResponse
from django.utils import timezone

from core.workspaces import workspace_view

SETTLE = timedelta(seconds=5)
MAX_SHOWN = 500  # ids the page may say it shows: more than a page ever holds


class BadCursor(ValueError):
    """A poll's `cursor` or `shown` is not what a live list sends."""


def cursor(request) -> int:
    """The poll's cursor: a non-negative integer, BadCursor otherwise."""
    raw = request.GET.get("cursor", "")
    if not raw.isdigit() or len(raw) > 18:
        raise BadCursor("cursor must be a non-negative integer.")
    return int(raw)


def shown(request) -> set[int]:
    """The ids of the rows the page shows (static/js/live.js sends them)."""
    raw = request.GET.get("shown", "")
    ids = [part for part in raw.split(",") if part][:MAX_SHOWN]
    if not all(part.isdigit() and len(part) <= 18 for part in ids):
        raise BadCursor("shown must be ids separated by commas.")
    return {int(part) for part in ids}


def advance(cursor: int, rows, now=None) -> int:
    """The cursor after `rows` ((id, created) in id order): the last id of the leading rows
    that are older than SETTLE."""
    settled = (now or timezone.now()) - SETTLE
    for row_id, created in rows:
        if created > settled:
            break
        cursor = row_id
    return cursor


def poll_url(request, url: str, position: int) -> str:
    """`url` with the page's own filters and the cursor `position`: the poll asks for
    exactly the rows the page lists (never another page's: only a first page polls)."""
    query = request.GET.copy()
    for key in ("cursor", "shown", "before", "after", "format"):
        query.pop(key, None)
    query["cursor"] = str(position)
    return f"{url}?{query.urlencode()}"


def poller(request, url: str, position: int, rows: str | None = None) -> dict:
    """What a page needs to poll (templates/core/_live_poller.html): the URL of its poll
    (`url` with the page's filters and `position`), and the id of the tbody of its rows."""
    return {
        "poller_id": "live-poller",
        "url": poll_url(request, url, position),
        "rows": f"#{rows}" if rows else "",
        "rows_id": rows,
    }


def refused(message: str) -> HttpResponse:
    """A poll this page would not send (a hand-made URL): 400, and why."""
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def nothing_new() -> HttpResponse:
    """The answer of a quiet poll: no content, nothing swapped, the cursor stays."""
    return HttpResponse(status=204)


def workspace_poll(view):
    """A poll of a workspace's live list: `view(request, *args, cursor, shown, **kwargs)`,
    or a 400 that says what is wrong with the cursor."""

    @functools.wraps(view)
    def poll(request, *args, **kwargs):
        try:
            position, ids = cursor(request), shown(request)
        except BadCursor as error:
            return refused(str(error))
        return view(request, *args, cursor=position, shown=ids, **kwargs)

    return workspace_view()(poll)
