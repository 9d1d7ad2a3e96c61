"""What the engine decides without a worker: whether a pending step runs, is skipped, or
waits; which case a switch takes; which `on_error` route takes a failure.

Pure functions over the run's definition and its steps' states; runner/engine.py calls
them from its advance path and writes what they decide. The format is in the README
("Decisions"):
- a step whose `after` steps are finished runs when they all succeeded (or were the
  failure its error route handles); one of them skipped → skipped too ("skip propagates");
- with `after_any`, it waits for all of them and runs when at least one succeeded;
- then its `when` is evaluated: false → skipped, with the condition in the reason;
- a step a person skipped in a rerun (`"skip": {"by", "at"}`) lets its dependants run;
- a switch's targets not in the chosen case are skipped ("branch not taken"); a step
  named in an `on_error` route runs only when that route was taken.
"""

from dataclasses import dataclass

from core import expressions, references
from runner.states import StepKind, StepStatus

SWITCH = "switch"
FINISHED = (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED)
# The parts of an error a condition or a handler's input may read (no traceback).
ERROR_PARTS = ("type", "code", "message", "retryable", "details")


@dataclass(frozen=True)
class Verdict:
    action: str  # "wait", "skip" or "go"
    reason: str = ""


WAIT = Verdict("wait")
GO = Verdict("go")


def is_switch(spec: dict) -> bool:
    return spec.get("type") == SWITCH


def gate(run, step, by_key: dict) -> Verdict:
    """Whether the pending `step` waits, is skipped (and why), or may start, judging only
    by its `after` steps; its own `when` is `condition` below."""
    spec = run.step_spec(step.key)
    edges = [_edge(run, by_key[parent], step.key) for parent in spec["after"]]
    if spec.get("after_any"):
        if any(edge is WAIT for edge in edges):
            return WAIT
        if not edges or any(edge is GO for edge in edges):
            return GO
        return Verdict("skip", "no step it runs after ran: " + _reasons(edges))
    for edge in edges:
        if edge.action == "skip":
            return edge
    return WAIT if any(edge is WAIT for edge in edges) else GO


def _edge(run, parent, key) -> Verdict:
    """What `parent` says to its dependant `key`."""
    if parent.status not in FINISHED:
        return WAIT
    parent_spec = run.step_spec(parent.key)
    handlers = {k for route in parent_spec.get("on_error", []) for k in route["next"]}
    if parent.status == StepStatus.SKIPPED and parent_spec.get("skip"):
        return GO  # a person chose to go on without it (a rerun's "skip this step")
    if parent.status == StepStatus.SKIPPED:
        return Verdict("skip", f"upstream step {parent.key} was skipped")
    if parent.status == StepStatus.FAILED:
        taken = (parent.handled or {}).get("next", [])
        if key in taken:
            return GO
        if key in handlers:
            return Verdict("skip", f"error route of {parent.key} not taken")
        return Verdict("skip", f"upstream step {parent.key} failed (handled)")
    if key in handlers:
        return Verdict("skip", f"error route of {parent.key} not taken: it succeeded")
    if is_switch(parent_spec):
        chosen = (parent.output or {}).get("index")
        branches = switch_branches(parent_spec)
        if key in branches.get(chosen, ()):
            return GO
        if any(key in targets for targets in branches.values()):
            case = (parent.output or {}).get("case")
            return Verdict("skip", f"branch not taken: {parent.key} chose {case}")
    return GO


def skipped_by_person(spec: dict) -> str:
    """The reason a rerun's step skipped by a person shows: who and when. The definition
    of the rerun carries it as `"skip": {"by": "alice", "at": "<ISO time>"}`; the steps
    after it run as if it had succeeded (with no output)."""
    skip = spec["skip"]
    return f"skipped by {skip.get('by') or 'someone'} at {skip.get('at', '')[:19]} UTC"


def _reasons(edges):
    return "; ".join(dict.fromkeys(edge.reason for edge in edges if edge.reason))


def switch_branches(spec: dict) -> dict:
    """{case index: [step keys]}, the default as index -1."""
    branches = {index: case["next"] for index, case in enumerate(spec["cases"])}
    branches[-1] = spec.get("default", [])
    return branches


def condition(spec: dict, scope: dict) -> Verdict:
    """GO when the step has no `when` or it holds; else skip, quoting the condition."""
    when = spec.get("when")
    if not when or _holds(when, scope):
        return GO
    return Verdict("skip", f"condition false: {when}")


def choose_case(spec: dict, scope: dict) -> tuple[dict, str]:
    """The switch's output ({"case", "index"}) and why, for its event."""
    for index, case in enumerate(spec["cases"]):
        if _holds(case["when"], scope):
            return {"case": case["name"], "index": index}, f"case {case['name']}: {case['when']}"
    return {"case": "default", "index": -1}, "default: no case's condition held"


def _holds(text, scope):
    return _parsed(text).holds(scope)


_cache = {}


def _parsed(text):
    """Conditions of a definition are parsed once per process (they were validated)."""
    found = _cache.get(text)
    if found is None:
        if len(_cache) > 2048:
            _cache.clear()
        found = _cache[text] = expressions.parse(text)
    return found


def route_for(spec: dict, error: dict) -> dict | None:
    """The first `on_error` route matching `error`, as stored on the step:
    {"route": index, "match": the word that matched, "next": [...]}; None if none does."""
    for index, route in enumerate(spec.get("on_error", [])):
        for word in route["match"]:
            if matches(word, error):
                return {"route": index, "match": word, "next": route["next"]}
    return None


def matches(word: str, error: dict) -> bool:
    """`*` any error; `non_retryable`; `timeout`; else the error's code or class name."""
    if word == "*":
        return True
    if word == "non_retryable":
        return error.get("retryable") is False
    if word == "timeout":
        return error.get("code") == "timeout" or error.get("type") == "AttemptTimeout"
    return word in (error.get("code"), error.get("type"))


def scope(run, steps) -> dict:
    """What conditions and inputs read: the run's input, `run.*`, and every finished
    step's status, output and (once failed) error."""
    return references.context(
        input=run.input,
        run={
            "id": run.id,
            "scheduled_for": run.scheduled_for.isoformat() if run.scheduled_for else None,
        },
        steps=(
            # A status set in this transaction is still the enum: the plain text compares
            # equal to a condition's string literal, as one read from the database does.
            (s.key, StepStatus(s.status).value, s.output, _public_error(s.error))
            for s in steps
            if s.status in FINISHED and s.kind == StepKind.ACTION  # not their compensations
        ),
    )


def _public_error(error):
    if not isinstance(error, dict):
        return None
    public = {part: error[part] for part in ERROR_PARTS if part in error}
    public.setdefault("code", None)  # always there for a handler to read, null when unnamed
    return public


def referenced_steps(spec: dict) -> set:
    """Keys of the steps the step's conditions read (for what a transition loads)."""
    texts = [spec.get("when")] + [case["when"] for case in spec.get("cases", [])]
    keys = set()
    for text in filter(None, texts):
        for path, _ in _parsed(text).references:
            root, _, rest = path.partition(".")
            if root == "steps":
                keys.add(rest.split(".", 1)[0])
    return keys
