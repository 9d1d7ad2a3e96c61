"""A run drawn on its workflow's graph: each step of the pinned definition with its status,
attempt count and (when it was undone) its compensation's status.

The graph comes from the definition the run started with (builder/graph.py reads it, as
the builder does), so a run shows the workflow it really ran, whatever the draft is now.
"""

from dataclasses import dataclass

from builder import graph
from runner.models import StepRun
from runner.states import StepKind, StepStatus


@dataclass
class NodeState:
    key: str
    status: str = StepStatus.PENDING
    attempts: int = 0
    compensation: str = ""  # the compensation's status, if the step was undone

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
        return text


def states(run):
    """{step key: NodeState} of the run's steps, in one query."""
    rows = StepRun.objects.filter(run_id=run.id, parent__isnull=True).values(
        "key", "kind", "status", "attempt_count", "compensates__key"
    )
    found = {}
    compensations = {}
    for row in rows:
        if row["kind"] == StepKind.COMPENSATION:
            compensations[row["compensates__key"] or row["key"]] = row["status"]
        else:
            found[row["key"]] = NodeState(row["key"], row["status"], row["attempt_count"])
    for key, status in compensations.items():
        found.setdefault(key, NodeState(key)).compensation = status
    return found


def from_groups(groups):
    """{step key: NodeState} from a timeline's step groups (no query of its own)."""
    found = {}
    for group in groups:
        if group.placeholder or group.kind == StepKind.COMPENSATION:
            continue
        found[group.key] = NodeState(group.key, group.status, group.attempt_count)
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
