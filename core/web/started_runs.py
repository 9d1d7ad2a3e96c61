"""The runs started in this browser session, so that its pages can say when one ends.

Kept in the session (the newest MAX ids): a run is "yours" in the browser that started
it, not in every browser of the same user. static/js/toast.js shows the toast.
"""

KEY = "started_runs"
MAX = 50


def remember(request, run_id: int) -> None:
    ids = [i for i in request.session.get(KEY, []) if i != run_id]
    request.session[KEY] = (ids + [run_id])[-MAX:]


def started_here(request) -> set[int]:
    return set(request.session.get(KEY, []))
