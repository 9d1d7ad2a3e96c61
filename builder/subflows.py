"""Validation of sub-workflow steps: a step that runs another workflow of the same
workspace as a child run (runner/subflows.py runs it).

    {"key": "ship", "type": "workflow", "workflow": "shipping", "version": "latest",
     "input": {"order": "{{ steps.order.output.id }}"}}

Checked when a definition is validated: the shape here (`check_step`, a row of
builder/decisions.py STEP_TYPES), then against the workspace (`check_targets`): the
workflow exists in this workspace (never another's), is published (with that version),
and running it cannot come back to the workflow being validated (A -> B -> A). The run
checks the depth (runner/subflows.py MAX_DEPTH), since "latest" can change after publish.
"""

from builder.models import Workflow, WorkflowVersion
from core import references

SUBFLOW = "workflow"
MAX_SLUG = 100


def is_subflow(step: dict) -> bool:
    return step.get("type") == SUBFLOW


def check_step(step, where, errors):
    """The step's `workflow`, `version` and `input`, normalized."""
    slug = step.get("workflow")
    if not isinstance(slug, str) or not slug.strip() or len(slug) > MAX_SLUG:
        errors.add(f"{where}.workflow", "must name a published workflow of this workspace")
        slug = None
    version = step.get("version", "latest")
    if version != "latest" and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        errors.add(f"{where}.version", 'must be "latest" or a version number (1, 2, ...)')
    step_input = step.get("input", {})
    if references.is_whole_reference(step_input):
        pass  # the whole input from one reference ("{{ input }}"): checked at run time
    elif not isinstance(step_input, dict):
        errors.add(f"{where}.input", "must be an object, or one reference like {{ input }}")
        step_input = {}
    for field, path in references.find(step_input):
        if path.strip().startswith("secrets"):
            at = f"{where}.input.{field}" if field else f"{where}.input"
            errors.add(at, "a child run cannot be handed a secret; refer to it in the child")
    return {"workflow": slug, "version": version, "input": step_input}


def check_targets(steps, workspace, slug, errors):
    """Every sub-workflow step's workflow: in this workspace, published, and no cycle
    back to `slug` (the workflow being validated, when known)."""
    wanted = {s["workflow"] for s in steps if is_subflow(s) and s.get("workflow")}
    if not wanted:
        return
    found = _published(workspace, wanted)
    for index, step in enumerate(steps):
        if not is_subflow(step) or not step.get("workflow"):
            continue
        where = f"steps[{index}]"
        target = step["workflow"]
        if slug is not None and target == slug:
            errors.add(f"{where}.workflow", "a workflow cannot run itself as a sub-workflow")
            continue
        if target not in found:
            errors.add(f"{where}.workflow", f"no workflow {target!r} in this workspace")
            continue
        versions = found[target]
        if not versions:
            errors.add(f"{where}.workflow", f"workflow {target!r} is not published yet")
            continue
        number = max(versions) if step["version"] == "latest" else step["version"]
        if number not in versions:
            errors.add(f"{where}.version", f"workflow {target!r} has no version {number}")
            continue
        if slug is not None:
            path = _path_back(workspace, target, versions[number], slug)
            if path:
                cycle = " -> ".join([slug, target, *path])
                errors.add(f"{where}.workflow", f"sub-workflows would run in a cycle: {cycle}")


def _published(workspace, slugs):
    """{slug: {version number: definition}} of the workspace's workflows named."""
    names = Workflow.objects.filter(workspace=workspace, slug__in=slugs)
    found = {slug: {} for slug in names.values_list("slug", flat=True)}
    rows = WorkflowVersion.objects.filter(workflow__workspace=workspace, workflow__slug__in=found)
    for target, number, definition in rows.values_list("workflow__slug", "number", "definition"):
        found[target][number] = definition
    return found


def _path_back(workspace, start, definition, slug, limit=50):
    """The slugs from `start`'s definition down to `slug`, if its sub-workflows (at the
    versions they name) ever run it; [] when they do not."""
    queue = [(definition, [])]
    seen = {start}
    while queue and limit:
        limit -= 1
        current, path = queue.pop(0)
        targets = [s for s in current.get("steps", []) if is_subflow(s)]
        for step in targets:
            target = step.get("workflow")
            if target == slug:
                return [*path, slug]
            if target in seen:
                continue
            seen.add(target)
            versions = _published(workspace, {target}).get(target) or {}
            if not versions:
                continue
            number = max(versions) if step.get("version", "latest") == "latest" else step["version"]
            if number in versions:
                queue.append((versions[number], [*path, target]))
    return []
