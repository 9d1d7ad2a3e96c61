"""A workflow definition seen as a graph: nodes and typed edges, for the canvases to draw.

Read generically, so a draft in mid-edit (unknown keys, a field of the wrong type) or a
construct the validator learns later still draws: steps are nodes; `after` gives the
edges; a `switch` step's cases and default, and a step's `on_error` routes, give those
edges their kind and label (and add the ones `after` does not list yet). The builder and
the run page both draw from this, so a workflow looks the same in both.
"""

from dataclasses import dataclass, field

from django.utils.text import Truncator

from builder import draft as drafts
from builder.models import Workflow

WAIT_TYPES = {"sleep": "Sleep", "event": "Wait for event", "approval": "Approval"}
KINDS = ("next", "case", "default", "error")


@dataclass
class Edge:
    source: str
    target: str
    kind: str = "next"  # next | case | default | error
    label: str = ""

    @property
    def text(self):
        """How a screen reader or a tooltip says it."""
        suffix = {
            "case": f" (case {self.label})",
            "default": " (default)",
            "error": f" (on error: {self.label})",
        }.get(self.kind, "")
        return f"{self.source} → {self.target}{suffix}"


@dataclass
class Node:
    index: int
    key: str
    type: str  # action | switch | workflow | sleep | event | approval | <else, drawn plainly>
    title: str  # the action ref, or what a non-action step does
    name: str = ""
    when: str = ""
    after: list = field(default_factory=list)
    compensate: str = ""
    retry: int | None = None  # max attempts of a policy of its own
    timeout: object = None
    group: str = ""  # the action's prefix: "http", "debug", ... (its icon)
    error_routes: int = 0
    cases: list = field(default_factory=list)  # case names of a switch, in order
    for_each: str = ""  # the list a for-each step runs its action over, as written
    max_concurrency: object = None  # its items at once (None: the default)

    @property
    def each_limit(self):
        """How many of a for-each's items run at once (10 unless it says)."""
        return self.max_concurrency if isinstance(self.max_concurrency, int) else 10

    @property
    def each_badge(self):
        """The "× N" of a for-each node: N items at once."""
        return f"× {self.each_limit} at once"

    @property
    def icon(self):
        return {"switch": "◇", "workflow": "▣", "sleep": "◷", "event": "⚑", "approval": "✓"}.get(
            self.type, (self.group[:1] or "?").upper()
        )

    @property
    def is_wait(self):
        return self.type in WAIT_TYPES

    @property
    def kind_class(self):
        """The icon's classes: its action's group (else its type), and `wait` for a wait."""
        return f"kind-{self.group or self.type}{' wait' if self.is_wait else ''}"

    @property
    def chips(self):
        """(class, title, text) of each badge the node wears, in the order they are drawn:
        computed here once, so that a face costs its template a loop (the run page draws
        every step of a long workflow)."""
        chips = []
        if self.for_each:
            title = f"For each item of {self.for_each}: the action runs once per item, "
            chips.append(("chip each", f"{title}{self.each_limit} at once", self.each_badge))
        if self.when:
            text = f"if {Truncator(self.when).chars(26)}"
            chips.append(("chip cond", f"Runs only when {self.when}", text))
        if self.retry:
            chips.append(("chip", "Retry policy of its own", f"↻ {self.retry}×"))
        if self.timeout:
            chips.append(("chip", "Timeout per attempt", f"{self.timeout} s max"))
        if self.error_routes:
            text = f"⚠ {self.error_routes} route{'' if self.error_routes == 1 else 's'}"
            chips.append(("chip err", "Error routes", text))
        if self.compensate:
            text = f"↩ undo {self.compensate}"
            chips.append(("chip comp", f"Compensation: {self.compensate}", text))
        return chips


def build(steps, names=None):
    """(nodes, edges) of a list of step objects (a draft's or a version's); `names` are
    the workspace's workflow names by slug, for sub-workflow steps (`workflow_names`)."""
    after = drafts.effective_after(steps)
    keys = [drafts.key_of(step) for step in steps]
    known = set(keys)
    nodes = [_node(index, step, after[index], names or {}) for index, step in enumerate(steps)]
    edges = {}
    for node in nodes:
        for source in node.after:
            edges[(source, node.key)] = Edge(source, node.key)
    for step, key in zip(steps, keys, strict=True):
        for target, kind, label in _routes(step):
            if target in known and target != key:
                edges[(key, target)] = Edge(key, target, kind, label)
    return nodes, list(edges.values())


def workflow_names(workspace_id, steps):
    """{slug: name} of the workflows the sub-workflow steps run (one query, none without)."""
    slugs = {s.get("workflow") for s in steps if s.get("type") == "workflow"}
    slugs = {slug for slug in slugs if isinstance(slug, str)}
    if not slugs:
        return {}
    found = Workflow.objects.filter(workspace_id=workspace_id, slug__in=slugs)
    return dict(found.values_list("slug", "name"))


def _node(index, step, after, names):
    kind = step.get("type") if isinstance(step.get("type"), str) else "action"
    action = step.get("action") if isinstance(step.get("action"), str) else ""
    retry = step.get("retry") if isinstance(step.get("retry"), dict) else None
    compensate = step.get("compensate") if isinstance(step.get("compensate"), dict) else None
    cases = step.get("cases") if isinstance(step.get("cases"), list) else []
    routes = step.get("on_error") if isinstance(step.get("on_error"), list) else []
    return Node(
        index=index,
        key=drafts.key_of(step) or f"(step {index + 1})",  # unique, so it can be drawn
        type=kind,
        title=_title(kind, step, action, names),
        name=_text(step.get("name")),
        when=_text(step.get("when")),
        after=after,
        compensate=_text(compensate.get("action")) if compensate else "",
        retry=retry.get("max_attempts") if retry else None,
        timeout=step.get("timeout_s"),
        group=action.split(".", 1)[0] if action else "",
        error_routes=len(routes),
        cases=[_text(case.get("name")) or f"case {n + 1}" for n, case in _dicts(cases)],
        for_each=_text(step.get("for_each")).strip(),
        max_concurrency=step.get("max_concurrency"),
    )


def _title(kind, step, action, names):
    if kind == "action":
        return action or "no action"
    if kind == "workflow":
        slug = _text(step.get("workflow"))
        version = step.get("version", "latest")
        pinned = "latest" if version == "latest" else f"v{version}"
        return f"{names.get(slug, slug) or 'no workflow'} · {pinned}"
    if kind == "switch":
        count = len(step.get("cases")) if isinstance(step.get("cases"), list) else 0
        return f"Switch · {count} case{'s' if count != 1 else ''}"
    if kind == "sleep":
        amount = step.get("seconds", step.get("until"))
        return f"Sleep {amount} s" if isinstance(amount, int | float) else "Sleep"
    if kind == "event":
        return f"Wait for event {_text(step.get('event'))}".strip()
    if kind == "approval":
        role = _text(step.get("role"))
        return f"Approval by {role}" if role else "Approval"
    return kind


def _routes(step):
    """(target, kind, label) of the edges a step names itself: switch cases, error routes."""
    if step.get("type") == "switch":
        cases = step.get("cases") if isinstance(step.get("cases"), list) else []
        for number, case in _dicts(cases):
            for target in _keys(case.get("next")):
                yield target, "case", _text(case.get("name")) or f"case {number + 1}"
        for target in _keys(step.get("default")):
            yield target, "default", "default"
    routes = step.get("on_error") if isinstance(step.get("on_error"), list) else []
    for _, route in _dicts(routes):
        match = route.get("match")
        label = ", ".join(m for m in match if isinstance(m, str)) if isinstance(match, list) else ""
        for target in _keys(route.get("next")):
            yield target, "error", label or "*"


def _dicts(items):
    return [(number, item) for number, item in enumerate(items) if isinstance(item, dict)]


def _keys(value):
    return [key for key in value if isinstance(key, str)] if isinstance(value, list) else []


def _text(value):
    return value if isinstance(value, str) else ""
