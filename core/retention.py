"""Deleting old history a little at a time, cheap enough for every pass of the sweeper."""


def purge_before(model, field, cutoff, batch=1000):
    """Delete up to `batch` rows of `model` whose `field` is before `cutoff`; the count.

    Rows are inserted in time order, so the smallest ids are the oldest rows: a pass reads
    the oldest row (one step down the primary key index) and stops there when it is not
    old; otherwise it deletes the old rows among the `batch` ids from there up, a range of
    that index, never a scan of the whole table.
    """
    oldest = model.objects.order_by("pk").values_list("pk", field).first()
    if oldest is None or oldest[1] >= cutoff:
        return 0
    window = model.objects.filter(pk__gte=oldest[0], pk__lt=oldest[0] + batch)
    deleted, _ = window.filter(**{f"{field}__lt": cutoff}).delete()
    return deleted


def delete_at_once(rows):
    """Delete `rows` with one DELETE statement, without Django's collection of each row and
    its relations (which would read a large batch into memory); the count. Only for rows
    that nothing points at any more: the caller deletes or detaches those first."""
    return rows._raw_delete(rows.db)
