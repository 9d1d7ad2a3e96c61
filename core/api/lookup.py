"""Finding one row by the id in a path: 404 unless it is in the caller's reach."""

from django.http import Http404

MAX_ID = 2**63 - 1  # a larger number in a path is no row of a bigint id, not a 500


def one_or_404(rows, row_id):
    """The row `row_id` of `rows` (already limited to the caller's workspace); 404 for
    anything else, so another workspace's rows look like no rows at all."""
    found = rows.filter(id=row_id).first() if 0 < row_id <= MAX_ID else None
    if found is None:
        raise Http404
    return found
