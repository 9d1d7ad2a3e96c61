"""A run drawn on its workflow's graph: each step of the pinned definition with its status,
attempt count and (when it was undone) its compensation's status.

The graph comes from the definition the run started with (builder/graph.py reads it, as
the builder does), so a run shows the workflow it really ran, whatever the draft is now.
"""

from dataclasses import dataclass

from builder import graph
from runner.models import StepRun
from runner.states import StepKind, StepStatus
from runner.timeline import ItemCounts, item_counts

# The statuses of an item that has ended, counted as done on the node.
ENDED = (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED)


@dataclass
class NodeState:
    key: str
    status: str = StepStatus.PENDING
    attempts: int = 0
    compensation: str = ""  # the compensation's status, if the step was undone
    items: ItemCounts | None = None  # a for-each step's items by status

    @property
    def items_ended(self):
        return sum(self.items.by_status.get(s, 0) for s in ENDED) if self.items else 0

    @property
    def items_done(self):
        """ "37/100 · 2 failed": the items that ended, of all, and the failures among them."""
        if self.items is None or not self.items.total:
            return ""
        failed = f" · {self.items.failed} failed" if self.items.failed else ""
        return f"{self.items_ended}/{self.items.total}{failed}"

    @property
    def dom_id(self):
        return f"rg-{self.key}"

    @property
    def label(self):
        """The status in words, for the node's badge and a screen reader."""
        text = self.status
        if self.attempts > 1:
            text += f", {self.attempts} attempts"
        if self.compensation:
            text += f", compensation {self.compensation}"
        if self.items_done:
            text += f", {self.items_ended} of {self.items.total} items ended"
            text += f", {self.items.failed} failed" if self.items.failed else ""
        return text


def states(run, known=None):
    """{step key: NodeState} of the run's steps, in one query; a for-each step's items
    counted in one more (timeline.item_counts), unless `known` ({key: ItemCounts}, what
    the timeline already counted) has them all."""
    rows = StepRun.objects.filter(run_id=run.id, parent__isnull=True).values(
        "id", "key", "kind", "status", "attempt_count", "compensates__key"
    )
    found = {}
    compensations = {}
    ids = {}
    for row in rows:
        if row["kind"] == StepKind.COMPENSATION:
            compensations[row["compensates__key"] or row["key"]] = row["status"]
        else:
            found[row["key"]] = NodeState(row["key"], row["status"], row["attempt_count"])
            ids[row["key"]] = row["id"]
    for key, status in compensations.items():
        found.setdefault(key, NodeState(key)).compensation = status
    _count_items(run, found, ids, known or {})
    return found


def _count_items(run, found, ids, known):
    keys = [key for key in _for_each_keys(run) if key in found]
    counts = None
    for key in keys:
        if key not in known and counts is None:
            counts = item_counts(run.id)
        items = known.get(key) or (counts or {}).get(ids[key])
        found[key].items = items or ItemCounts()


def _for_each_keys(run):
    specs = run.definition.get("steps") if isinstance(run.definition, dict) else None
    specs = specs if isinstance(specs, list) else []
    return [spec["key"] for spec in specs if isinstance(spec, dict) and "for_each" in spec]


def from_groups(groups):
    """{step key: NodeState} from a timeline's step groups (no query of its own)."""
    found = {}
    for group in groups:
        if group.placeholder or group.kind == StepKind.COMPENSATION:
            continue
        found[group.key] = NodeState(
            group.key, group.status, group.attempt_count, items=group.items
        )
    for group in groups:
        if not group.placeholder and group.kind == StepKind.COMPENSATION:
            key = group.compensates or group.key
            found.setdefault(key, NodeState(key)).compensation = group.status
    return found


def build(run, now=None):
    """(cards, edges) for the run page's graph: each node with its state (`now`, else read)."""
    steps = run.definition.get("steps") if isinstance(run.definition, dict) else None
    steps = [step for step in steps if isinstance(step, dict)] if isinstance(steps, list) else []
    nodes, edges = graph.build(steps, graph.workflow_names(run.workspace_id, steps))
    now = states(run) if now is None else now
    cards = [{"node": node, "state": now.get(node.key) or NodeState(node.key)} for node in nodes]
    return cards, edges
