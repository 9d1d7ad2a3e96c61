"""What a step's input may reference, for the panel's autocomplete.

`input.*` comes from the workflow's input schema, `steps.<key>.output.*` from each step
this one depends on (its action's output schema, else the output of that step's last run),
`secrets.*` from the workspace's secret names. Everything is looked up within the
workflow's own workspace. A condition (`when`) reads no secrets and no item, but may read
a step's status and error (core/expressions.py, builder/decisions.py).
"""

from dataclasses import dataclass

from builder import draft as drafts
from builder.palette import resolve
from core import key_order
from core.models import Secret
from runner.models import Run, StepRun
from runner.states import StepStatus


@dataclass(frozen=True)
class Source:
    ref: str
    hint: str  # where it comes from, shown beside it
    for_each_only: bool = False  # offered once the step's for_each is set


# A for-each item's references (builder/for_each.py): the panel shows them as soon as the
# for-each field holds something, without a round trip.
ITEM_SOURCES = (
    Source("item", "the current item", for_each_only=True),
    Source("item_index", "its position, from 0", for_each_only=True),
)


def reference_sources(workflow, steps, index):
    """What the step's input may reference; the item's references are marked."""
    sources = _input_sources(workflow) + _step_sources(workflow, steps, index)
    secrets = Secret.objects.filter(workspace=workflow.workspace).order_by("name")
    sources += [
        Source(f"secrets.{name}", "secret") for name in secrets.values_list("name", flat=True)
    ]
    sources.append(Source("run.id", "this run's id"))
    return sources + list(ITEM_SOURCES)


def condition_sources(workflow, steps, index, run_fields):
    """What the step's `when` may reference: input, the steps it runs after, run fields."""
    sources = _input_sources(workflow)
    sources += _step_sources(workflow, steps, index, outcome=True)
    return sources + [Source(f"run.{field}", "this run") for field in run_fields]


def _input_sources(workflow):
    draft = workflow.draft if isinstance(workflow.draft, dict) else {}
    names = _properties(draft.get("input_schema"))
    return [Source("input", "the run input")] + [
        Source(f"input.{name}", "run input") for name in names
    ]


def _step_sources(workflow, steps, index, outcome=False):
    """Each upstream step's output and its fields; with `outcome`, its status and error."""
    upstream = drafts.upstream_keys(steps, index)
    outputs = last_outputs(workflow) if upstream else {}
    sources = []
    for key in upstream:
        sources.append(Source(f"steps.{key}.output", f"output of {key}"))
        sources += [
            Source(f"steps.{key}.output.{name}", hint)
            for name, hint in _output_fields(workflow, steps, key, outputs)
        ]
        if outcome:
            sources.append(Source(f"steps.{key}.status", f"how {key} ended"))
            sources.append(Source(f"steps.{key}.error", f"{key}'s error, if it failed"))
    return sources


def last_input(workflow):
    """The input of the workflow's latest run: the sample a step test starts from."""
    run = Run.objects.filter(workflow=workflow, workspace=workflow.workspace).order_by("-id")
    found = run.values_list("input", "input_keys").first()
    found = key_order.restore(*found) if found else None  # as it was given
    return found if isinstance(found, dict) else {}


def last_outputs(workflow):
    """Each step key's output in the workflow's latest runs (newest wins)."""
    rows = (
        StepRun.objects.filter(
            run__workflow=workflow,
            run__workspace=workflow.workspace,
            status=StepStatus.SUCCEEDED,
            compensates__isnull=True,
        )
        .order_by("-id")
        .values_list("key", "output", "output_keys")[:200]
    )
    outputs = {}
    for key, output, order in rows:
        if key not in outputs:
            outputs[key] = key_order.restore(output, order)  # as the action wrote it
    return outputs


def _output_fields(workflow, steps, key, outputs):
    step = next((step for step in steps if drafts.key_of(step) == key), {})
    version = resolve(step.get("action"), workflow.workspace) if isinstance(step, dict) else None
    declared = _properties(version.output_schema if version else None)
    if declared:
        return [(name, f"output of {key}") for name in declared]
    output = outputs.get(key)
    if isinstance(output, dict):
        return [(name, f"{key}, last run") for name in output]
    return []


def _properties(schema):
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return []
    return list(schema["properties"])
