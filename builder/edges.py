"""Edits of a draft's graph: insert a step on a node or an edge, connect, disconnect.

A step without `after` waits for the previous step in the list, so an edit that changes
the list would silently rewire its neighbours. Each edit here therefore first writes
every step's dependencies out (`after` made explicit), changes what it means to, then
drops again the `after`s that say only what the order says (draft.tidy_after).
Pure functions over the JSON, like builder/draft.py; they raise EdgeError for an edit
that cannot be made, with a sentence for the user.
"""

from builder import draft as drafts


class EdgeError(ValueError):
    pass


def insert_step(draft, what, *, after=(), before=None):
    """A new step running `what` (an ActionVersion, or a wait's kind: draft.new_step)
    that waits for the steps `after`.

    `before` (a step's key) inserts it on the edge from `after[0]` to that step: the
    step then waits for the new one instead. Returns (draft, index of the new step).
    """
    steps = _explicit(drafts.steps_of(draft))
    index_of = _index_of(steps)
    after = [key for key in after if key]
    for key in [*after, *([before] if before else [])]:
        if key not in index_of:
            raise EdgeError(f"There is no step {key!r} any more; reloaded.")
    step = {**drafts.new_step(steps, what), "after": list(dict.fromkeys(after))}
    if before:
        target = steps[index_of[before]]
        if after and after[0] not in target["after"]:
            raise EdgeError(f"{before!r} does not wait for {after[0]!r} any more; reloaded.")
        rest = [key for key in target["after"] if key not in after[:1]]
        target["after"] = [*rest, step["key"]]
        position = index_of[before]
    elif after:
        position = max(index_of[key] for key in after) + 1
    else:
        position = len(steps)
    steps.insert(position, step)
    return drafts.with_steps(draft, drafts.tidy_after(steps)), position


def connect(draft, source, target):
    """`target` also waits for `source`."""
    steps = _explicit(drafts.steps_of(draft))
    index_of = _index_of(steps)
    _check_known(index_of, source, target)
    if source == target:
        raise EdgeError("A step cannot wait for itself.")
    step = steps[index_of[target]]
    if source in step["after"]:
        raise EdgeError(f"{target} already runs after {source}.")
    if target in _upstream(steps, index_of, source):
        raise EdgeError(f"{target} runs before {source}: that edge would make a cycle.")
    step["after"] = [*step["after"], source]
    return drafts.with_steps(draft, drafts.tidy_after(steps))


def disconnect(draft, source, target):
    """`target` no longer waits for `source`."""
    steps = _explicit(drafts.steps_of(draft))
    index_of = _index_of(steps)
    _check_known(index_of, source, target)
    step = steps[index_of[target]]
    if source not in step["after"]:
        raise EdgeError(f"{target} does not run after {source}.")
    step["after"] = [key for key in step["after"] if key != source]
    return drafts.with_steps(draft, drafts.tidy_after(steps))


def _explicit(steps):
    for step, after in zip(steps, drafts.effective_after(steps), strict=True):
        step["after"] = after
    return steps


def _index_of(steps):
    index_of = {}
    for index, step in enumerate(steps):
        index_of.setdefault(drafts.key_of(step), index)
    index_of.pop("", None)
    return index_of


def _check_known(index_of, *keys):
    for key in keys:
        if key not in index_of:
            raise EdgeError(f"There is no step {key!r} any more; reloaded.")


def _upstream(steps, index_of, key):
    """Every key `key` waits for, directly or not."""
    seen, todo = set(), list(steps[index_of[key]]["after"])
    while todo:
        other = todo.pop()
        if other in seen or other not in index_of:
            continue
        seen.add(other)
        todo.extend(steps[index_of[other]]["after"])
    return seen
