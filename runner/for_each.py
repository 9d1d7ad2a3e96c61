"""For-each steps: the step's action run once per item of a list, a few at a time.

A step with `for_each: "{{ steps.x.output.items }}"` resolves its list when it starts and
gets one child StepRun of kind `item` per element (`parent`, `item_index`, `item`), each
with its own attempts and the step's retry policy. At most `max_concurrency` items run at
once: when one ends, the next pending ones start, found with one indexed count and one
indexed read (never by reading the siblings). Its output is the list of the items'
outputs, in order. An item's final failure:
- `fail_fast` (default): the step fails at once; pending items never start, waiting
  retries are cancelled, running ones end, and the run compensates as usual;
- `collect`: every item runs, then the step fails, naming the failed items.

Compensation undoes each succeeded item (runner/compensation.py), with `item`,
`item_index` and `item_output` to refer to. A rerun from the failed step reuses the
items that succeeded (and were not undone) where the list holds the same value at the
same index, and runs the others.

Called inside the engine's transitions (runner/engine.py), writing through them; the
functions that can fail the step return its error, and the engine decides what follows.
"""

from django.db.models import Count, Exists, OuterRef

from core import key_order, references
from runner import decisions, fastsql
from runner.models import Run, StepRun
from runner.run_state import STEP_STATE, action_version
from runner.states import RunStatus, StepKind, StepStatus
from runner.steps import start_step
from runner.transition import add_step, add_steps, set_step, skip_items

MAX_ITEMS = 10_000
DEFAULT_CONCURRENCY = 10
FAIL_FAST, COLLECT = "fail_fast", "collect"
# Failed items named in the step's error; the items page lists them all.
NAMED_FAILURES = 20
# What makes an item the same item in a rerun's definition.
SAME_FIELDS = ("action", "input", "for_each")
ORIGINAL_ITEM = ("id", "item_index", "item", "input", "output", "started_at", "ended_at")
ORIGINAL_ITEM += ("input_keys", "output_keys")  # their key order (core/key_order.py)


def is_for_each(spec: dict) -> bool:
    return "for_each" in spec


def has_for_each(run) -> bool:
    return any(is_for_each(spec) for spec in run.definition["steps"])


def concurrency(spec: dict) -> int:
    return spec.get("max_concurrency") or DEFAULT_CONCURRENCY


def start(tx, steps, step):
    """Resolve the list, create the items, start the first ones. Returns the step's error
    when it fails here (a list that is missing, not a list, or too long)."""
    run = tx.run
    spec = run.step_spec(step.key)
    try:
        items = references.render(spec["for_each"], decisions.scope(run, steps))
    except references.MissingReference as missing:
        return _fail_now(tx, step, f"for_each refers to {missing.path}, which is missing")
    if not isinstance(items, list):
        kind = "null" if items is None else type(items).__name__
        return _fail_now(tx, step, f"for_each must resolve to a list, not {kind}")
    if len(items) > MAX_ITEMS:
        return _fail_now(
            tx, step, f"for_each resolved to {len(items)} items; at most {MAX_ITEMS} are allowed"
        )
    set_step(tx, step, StepStatus.RUNNING, started_at=tx.now, input={"items": len(items)})
    if not items:
        set_step(tx, step, StepStatus.SUCCEEDED, output=[], ended_at=tx.now)
        return None
    reused = _reusable(run, step, spec, items)
    children = []
    for index, value in enumerate(items):
        child = StepRun(
            run_id=run.id,
            key=step.key,
            kind=StepKind.ITEM,
            position=step.position,
            action_version_id=step.action_version_id,
            parent_id=step.id,
            item_index=index,
            item=value,
        )
        original = reused.get(index)
        if original is not None:
            child.status = StepStatus.SUCCEEDED
            child.input = key_order.restore(original["input"], original["input_keys"])
            child.output = key_order.restore(original["output"], original["output_keys"])
            child.started_at, child.ended_at = original["started_at"], original["ended_at"]
            child.reused_from_id = original["id"]
        children.append(child)
    add_steps(tx, children)
    if reused:
        tx.event(
            "step.items_reused",
            step=step,
            message=f"{len(reused)} of {len(items)} items reused from run {_origin(run)[0]}",
        )
    return fill(tx, steps, step)


def _fail_now(tx, step, message):
    error = {"type": "InvalidInput", "message": message, "retryable": False}
    set_step(tx, step, StepStatus.RUNNING, started_at=tx.now)
    set_step(tx, step, StepStatus.FAILED, error=error, ended_at=tx.now)
    return error


def fill(tx, steps, parent):
    """Start pending items while fewer than `max_concurrency` run; settle the step when
    none is left. Returns the step's error when it fails."""
    spec = tx.run.step_spec(parent.key)
    limit = concurrency(spec)
    while parent.status == StepStatus.RUNNING and tx.run.status in (
        RunStatus.QUEUED,
        RunStatus.RUNNING,
    ):
        tx.send_writes()  # the counts below read what this transaction wrote
        items = StepRun.objects.filter(parent_id=parent.id, kind=StepKind.ITEM)
        running = items.filter(status=StepStatus.RUNNING).count()
        if running >= limit:
            return None
        batch = list(
            items.filter(status=StepStatus.PENDING).order_by("item_index")[: limit - running]
        )
        if not batch:
            return None if running else _settle(tx, parent, items)
        for item in batch:
            item.action_version = parent.action_version
            extra = {"item": item.item, "item_index": item.item_index}
            error = start_step(tx, steps, item, extra=extra)
            if error is not None:
                failed = item_ended(tx, steps, parent, item, refill=False)
                if failed is not None:
                    return failed
    return None


def item_ended(tx, steps, parent, item, *, refill=True):
    """An item succeeded or failed for good: fail the step (fail_fast), or start the next
    items. Nothing more once the step itself has ended (a fail-fast's items in flight)."""
    if parent.status != StepStatus.RUNNING:
        return None
    spec = tx.run.step_spec(parent.key)
    if item.status == StepStatus.FAILED and spec.get("on_item_failure", FAIL_FAST) == FAIL_FAST:
        error = {
            "type": "ItemFailed",
            "message": f"item {item.item_index} failed: {(item.error or {}).get('message', '')}",
            "failed_items": [item.item_index],
            "retryable": False,
        }
        set_step(tx, parent, StepStatus.FAILED, error=error, ended_at=tx.now)
        _skip_pending(tx, [parent], "the step failed fast")
        return error
    return fill(tx, steps, parent) if refill else None


def _settle(tx, parent, items):
    """Every item ended: the step succeeds with their outputs in order, or fails naming
    the items that failed (collect)."""
    failed = list(
        items.filter(status=StepStatus.FAILED).order_by("item_index").values_list("item_index")
    )
    if failed:
        indexes = [index for (index,) in failed]
        named = ", ".join(map(str, indexes[:NAMED_FAILURES]))
        more = f" and {len(indexes) - NAMED_FAILURES} more" if len(indexes) > NAMED_FAILURES else ""
        error = {
            "type": "ItemsFailed",
            "message": f"{len(indexes)} of {items.count()} items failed: {named}{more}",
            "failed_items": indexes,
            "retryable": False,
        }
        set_step(tx, parent, StepStatus.FAILED, error=error, ended_at=tx.now)
        return error
    outputs = list(items.order_by("item_index").values_list("output", flat=True))
    set_step(tx, parent, StepStatus.SUCCEEDED, output=outputs, ended_at=tx.now)
    return None


def child(step_run_id):
    """An item (or an item's compensation) as the engine reads steps, with its value."""
    row = fastsql.rows(StepRun, (*STEP_STATE, "item"), {"id": step_run_id})[0]
    row.action_version = action_version(row.action_version_id)
    return row


def children(ids):
    """Several children, by id (the items whose waiting retries a stopping run cancels)."""
    return {row.id: row for row in StepRun.objects.filter(id__in=ids)}


# ---------------------------------------------------------------------------
# When the run stops: pending items never start


def stop(tx, steps, ending):
    """The run compensates or is cancelled: pending items are skipped and running for-each
    steps end skipped (their items in flight still end, and are undone if they succeed)."""
    running = [
        s
        for s in steps
        if s.kind == StepKind.ACTION
        and s.status == StepStatus.RUNNING
        and is_for_each(tx.run.step_spec(s.key))
    ]
    if not running:
        return
    _skip_pending(tx, running, f"the run {ending}")
    for parent in running:
        set_step(tx, parent, StepStatus.SKIPPED, ended_at=tx.now, message=f"the run {ending}")


def _skip_pending(tx, parents, why):
    tx.send_writes()
    pending = StepRun.objects.filter(
        parent_id__in=[s.id for s in parents], kind=StepKind.ITEM, status=StepStatus.PENDING
    ).values_list("parent_id", "id")
    by_parent = {}
    for parent_id, item_id in pending:
        by_parent.setdefault(parent_id, []).append(item_id)
    for parent in parents:
        ids = by_parent.get(parent.id)
        if ids:
            skip_items(tx, parent, ids, f"{len(ids)} pending items skipped: {why}")


def children_running(run) -> bool:
    return StepRun.objects.filter(
        run_id=run.id, parent__isnull=False, status=StepStatus.RUNNING
    ).exists()


# ---------------------------------------------------------------------------
# Compensation: each succeeded item, newest first


def next_to_undo(parent):
    """The newest succeeded item of `parent` that no compensation has started for, or None."""
    undone = StepRun.objects.filter(compensates_id=OuterRef("id"), kind=StepKind.COMPENSATION)
    item = (
        StepRun.objects.filter(parent_id=parent.id, kind=StepKind.ITEM, status=StepStatus.SUCCEEDED)
        .exclude(Exists(undone))
        .order_by("-ended_at", "-item_index")
        .values("id", "item_index", "item", "output")
        .first()
    )
    return item


def start_compensation(tx, steps, parent, item):
    """A compensation of one item, started with `item`, `item_index` and `item_output`.
    Returns its error when its input is unusable."""
    run = tx.run
    ref = run.step_spec(parent.key)["compensate"]["action"]
    step = add_step(
        tx,
        run_id=run.id,
        key=parent.key,
        kind=StepKind.COMPENSATION,
        position=parent.position,
        action_version_id=run.action_versions[ref],
        compensates_id=item["id"],
        parent_id=parent.id,
        item_index=item["item_index"],
        item=item["item"],
    )
    step.action_version = action_version(step.action_version_id)
    extra = {"item": item["item"], "item_index": item["item_index"], "item_output": item["output"]}
    return start_step(tx, steps, step, extra=extra)


def compensations_ran(run) -> dict:
    """{status: count} of the compensations of items (one grouped query)."""
    rows = (
        StepRun.objects.filter(run_id=run.id, parent__isnull=False, kind=StepKind.COMPENSATION)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return dict(rows)


# ---------------------------------------------------------------------------
# Reruns from the failed step


def _origin(run):
    return Run.objects.filter(id=run.id).values_list("rerun_of_id", "rerun_from").first()


def _reusable(run, step, spec, items):
    """{index: original item} a rerun from the failed step keeps: succeeded, not undone,
    the same step definition, and the same value at the same index."""
    rerun_of, rerun_from = _origin(run) or (None, "")
    if rerun_of is None or rerun_from != "failed":
        return {}
    old_definition = Run.objects.values_list("definition", flat=True).get(id=rerun_of)
    old = next((s for s in old_definition["steps"] if s["key"] == step.key), None)
    if old is None or any(old.get(f) != spec.get(f) for f in SAME_FIELDS):
        return {}
    undone = StepRun.objects.filter(
        compensates_id=OuterRef("id"), kind=StepKind.COMPENSATION, status=StepStatus.SUCCEEDED
    )
    originals = (
        StepRun.objects.filter(
            run_id=rerun_of,
            parent__key=step.key,
            parent__kind=StepKind.ACTION,
            kind=StepKind.ITEM,
            status=StepStatus.SUCCEEDED,
        )
        .exclude(Exists(undone))
        .values(*ORIGINAL_ITEM)
    )
    return {
        row["item_index"]: row
        for row in originals
        if row["item_index"] < len(items) and items[row["item_index"]] == row["item"]
    }
