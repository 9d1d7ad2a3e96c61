"""What the engine reads of a run, and the per-process caches that make it cheap.

A run's definition, pinned action versions and input never change once it starts, and
ActionVersions are immutable: each worker process reads them once. What changes (the
run's status, its steps' states) is read in every transition, as plain rows.
"""

import functools

from core import key_order, references
from core.errors import InvalidInput
from core.models import ActionVersion
from runner import decisions, fastsql
from runner.models import Run, StepRun


def pin_action_versions(definition, workspace):
    """{ref: ActionVersion} for every `name@version` in the steps and compensations."""
    refs = set()
    for step in definition["steps"]:
        if step.get("action"):  # a switch has none
            refs.add(step["action"])
        if step.get("compensate"):
            refs.add(step["compensate"]["action"])
    return dict(_pinned(workspace.id, frozenset(refs)))


@functools.lru_cache(maxsize=4096)
def _pinned(workspace_id, refs):
    """ActionVersions are immutable: a ref resolved once for a workspace stays resolved
    (an unknown ref raises, and so is not cached)."""
    wanted = {}
    for ref in refs:
        name, _, number = ref.partition("@")
        wanted.setdefault(name, set()).add(int(number))
    found = {}
    candidates = ActionVersion.objects.select_related("action").filter(
        action__name__in=wanted.keys(), version__in={n for ns in wanted.values() for n in ns}
    )
    # Built-ins first: they win over a workspace action of the same name (as the validator).
    for version in sorted(candidates, key=lambda v: v.action.workspace_id is not None):
        owner = version.action.workspace_id
        if owner is not None and owner != workspace_id:
            continue
        if version.version in wanted.get(version.action.name, ()):
            found.setdefault(version.ref, version)
    missing = refs - found.keys()
    if missing:
        raise InvalidInput({"definition": [f"unknown action {ref}" for ref in sorted(missing)]})
    return tuple(found.items())


def forget_cached():
    """For tests that empty the tables: ids of recreated rows must not hit old entries."""
    for cached in (_pinned, action_version, _run_shape, _specs_by_key, outputs_needed):
        cached.cache_clear()


def lock(run_id):
    """The run's state, its row locked for this transaction (FOR NO KEY UPDATE: inserting
    rows that point at the run still goes on)."""
    found = fastsql.rows(Run, RUN_STATE, {"id": run_id}, lock=True)
    if not found:
        raise Run.DoesNotExist(f"run {run_id}")
    return RunState(found[0])


class RunState:
    """What a transition knows of its run: the state read under its lock, and what never
    changes after it starts (definition, pinned versions, input) from a per-process cache,
    with its steps' specs by key (looked up for every pending step at every transition)."""

    def __init__(self, row):
        for name in RUN_STATE:
            setattr(self, name, getattr(row, name))
        shape = _run_shape(self.id)
        self.definition, self.action_versions, self.input, self.scheduled_for = shape[:4]
        # The run this one reruns, and whether its success resolves it (runner/reruns.py).
        self.rerun_of_id, self.resolve_original = shape[4:]

    def step_spec(self, key):
        return _specs_by_key(self.id)[key]


RUN_STATE = ("id", "workspace_id", "status", "ending", "needs_review", "parent_run_id")
CLAIM_STEP = (
    "id", "key", "kind", "input", "secret_slots", "action_version_id", "parent_id", "item_index",
    "input_keys",
)  # fmt: skip
STEP_STATE = (
    "id", "run_id", "key", "kind", "position", "action_version_id", "compensates_id",
    "status", "output", "attempt_count", "reused_from_id", "started_at", "ended_at",
    "error", "handled", "wake_at", "waiting_for", "parent_id", "item_index", "output_keys",
)  # fmt: skip


# Runs a worker process has in hand: enough for every run in flight, few enough that a
# worker's memory stays flat (each entry holds a run's definition and input).
RUNS_CACHED = 512


@functools.lru_cache(maxsize=RUNS_CACHED)
def _run_shape(run_id):
    """Safe to cache by id: these columns never change, and ids are never reused
    (PostgreSQL sequences, SQLite AUTOINCREMENT); an original deleted since is looked
    up again before it is resolved."""
    fields = ("definition", "action_versions", "input", "scheduled_for")
    fields += ("rerun_of_id", "resolve_original", "input_keys", "definition_keys")
    shape = Run.objects.values_list(*fields).get(id=run_id)
    # The definition and input in the order they were written in (core/key_order.py): a
    # step's input renders in its template's order, and `{{ input }}` keeps the input's.
    definition = key_order.restore(shape[0], shape[7])
    return (definition, shape[1], key_order.restore(shape[2], shape[6]), *shape[3:6])


def steps_of(run):
    return steps_from(fastsql.read(steps_query(run.id)))


def steps_query(run_id):
    """The read of a run's steps, as a `fastsql.Select` (complete_attempt sends it with
    its lock, in one round trip)."""
    # Inputs, errors and secret slots are only read for a step this transaction starts,
    # which sets them itself; outputs only where a transition may use them.
    # A for-each's items and their compensations are children: read one at a time by
    # runner/for_each.py, never with the run's steps.
    needed = outputs_needed(run_id)
    return fastsql.select(
        StepRun,
        STEP_STATE,
        {"run_id": run_id, "parent_id": None},
        order_by=("position", "id"),
        only=None if needed is None else ("output", "key", needed),
    )


def steps_from(rows):
    for step in rows:
        step.action_version = action_version(step.action_version_id)
        if step.output_keys is not None:  # in the order the action wrote it: a reference
            step.output = key_order.restore(step.output, step.output_keys)  # to it keeps it
    return rows


@functools.lru_cache(maxsize=RUNS_CACHED)
def _specs_by_key(run_id):
    return {spec["key"]: spec for spec in _run_shape(run_id)[0]["steps"]}


@functools.lru_cache(maxsize=RUNS_CACHED)
def outputs_needed(run_id):
    """Keys of the steps whose output a transition can use: those a step's or a
    compensation's input refers to, and the last ones (the run's output); None for all.
    A run of 20 steps with large outputs must not read them all at every step."""
    steps = _run_shape(run_id)[0]["steps"]
    keys, upstream = set(), set()
    for spec in steps:
        upstream.update(spec["after"])
        keys.update(decisions.referenced_steps(spec))  # what its conditions read
        if decisions.is_switch(spec):
            keys.add(spec["key"])  # its output is the case its dependants follow
        templates = (spec.get("input"), (spec.get("compensate") or {}).get("input"))
        for template in (
            *templates,
            spec.get("until"),
            spec.get("for_each"),
        ):  # a sleep's time may be a reference
            for _, path in references.find(template or {}):
                head, _, rest = path.partition(".")
                key = rest.split(".", 1)[0].split("[", 1)[0]
                if head == "steps" and not key:
                    return None
                if head == "steps":
                    keys.add(key)
    keys.update(spec["key"] for spec in steps if spec["key"] not in upstream)
    return tuple(sorted(keys))


@functools.lru_cache(maxsize=2048)
def action_version(version_id):
    """ActionVersions are immutable: one lookup per worker process, not two per step.
    None for a step without an action (a switch)."""
    if version_id is None:
        return None
    return ActionVersion.objects.select_related("action").get(id=version_id)
