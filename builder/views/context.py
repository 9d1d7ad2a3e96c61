"""Template context of the builder's regions: canvas, step panel, workflow settings, status.

Every region is drawn from the stored draft and the validator's errors, so a region
re-rendered after any edit shows what the server holds.
"""

from django.urls import reverse

from builder import concurrency, error_routes, graph, run_timeout, switch_cases
from builder import draft as drafts
from builder.decisions import APPROVER_ROLES, ON_TIMEOUT, STEP_TYPES
from builder.definition import RUN_FIELDS
from builder.input_fields import field_errors, input_fields
from builder.models import Workflow
from builder.palette import palette, resolve
from builder.retry_preview import duration, preview
from builder.step_form import (
    FOR_EACH_SLOTS,
    RETRY_FIELDS,
    WAIT_FIELDS,
    error_count,
    error_slots,
    json_text,
)
from builder.views.common import check, merge_errors
from builder.views.reference_sources import (
    condition_sources,
    last_input,
    reference_sources,
)
from core.actions.registry import run_form_hints
from core.models import Secret
from core.workspaces import can_edit

STEP_SLOTS = (
    ["step", "key", "name", "action", "input", "after", "retry", "timeout_s"]
    + [f"retry_{field}" for field in (*RETRY_FIELDS, "jitter")]
    + ["compensate", "compensate_action", "compensate_input", "compensate_timeout_s"]
    + ["compensate_retry"]
    + [f"compensate_retry_{field}" for field in (*RETRY_FIELDS, "jitter")]
)
STEP_SLOTS += ["type", "when", "after_any", "on_error", *FOR_EACH_SLOTS]
# A switch has no action, input, retries or compensation: its cases and default instead.
SWITCH_SLOTS = ["step", "key", "name", "type", "after", "when", "after_any", "cases", "default"]
# A sub-workflow step: the workflow it runs, its version, its input and error routes.
SUBFLOW_SLOTS = ["step", "key", "name", "type", "after", "when", "after_any", "workflow"]
SUBFLOW_SLOTS += ["version", "input", "on_error"]
# A wait has its own fields and error routes, but no action, input, retries or compensation.
WAIT_SLOTS = ["step", "key", "name", "type", "after", "when", "after_any", "on_error"]
WAIT_SLOTS += ["for_s", "until", "event", "role", "timeout_s", "on_timeout"]
SETTINGS_SLOTS = ["", "name", "description", "input_schema", "steps", *concurrency.SLOTS]
SETTINGS_SLOTS += [run_timeout.FIELD]


def draft_state(workflow, local_errors=None):
    normalized, fields = check(workflow.draft, workflow.workspace, workflow.slug)
    if _is_empty(workflow):
        # A new, empty draft is a beginning, not a mistake: guidance replaces the error
        # (publishing it still refuses, with the validator's message).
        fields = {path: messages for path, messages in fields.items() if path != "steps"}
    return normalized, merge_errors(fields, local_errors or {})


def _is_empty(workflow):
    draft = workflow.draft if isinstance(workflow.draft, dict) else {}
    return draft.get("steps", []) == []


def status_context(workflow, normalized, fields):
    latest = workflow.latest_version()
    problems = sum(len(messages) for messages in fields.values())
    return {
        "workflow": workflow,
        "problems": problems,
        "empty": _is_empty(workflow),
        "latest": latest,
        "unpublished": normalized is None or latest is None or latest.definition != normalized,
    }


def canvas_context(workflow, fields, selected=None):
    """The graph of the draft: nodes (with their problems) and typed edges."""
    steps = drafts.steps_of(workflow.draft)
    nodes, edges = graph.build(steps, graph.workflow_names(workflow.workspace_id, steps))
    cards = []
    for node, step in zip(nodes, steps, strict=True):
        cards.append(
            {
                "node": node,
                "index": node.index,
                "key": node.key,
                "dom_id": dom_id(step, node.index),
                "errors": error_count(fields, node.index),
                "first": node.index == 0,
                "last": node.index == len(steps) - 1,
                "selected": node.index == selected,
                "dependants": [edge.target for edge in edges if edge.source == node.key],
            }
        )
    steps_url = reverse("builder_step", args=[workflow.workspace.slug, workflow.slug, 0])
    return {
        "workflow": workflow,
        "steps_url": steps_url.removesuffix("0/"),
        "cards": cards,
        "edges": edges,
        "step_count": len(steps),
        "selected": selected,
    }


def connect_context(workflow, steps, index):
    """For the keyboard's connect dialog: which steps this one may point to, or already does."""
    nodes, edges = graph.build(steps)
    node = nodes[index]
    upstream = set(drafts.upstream_keys(steps, index))
    downstream = {
        other.key for other in nodes if node.key in drafts.upstream_keys(steps, other.index)
    }
    outgoing = {edge.target for edge in edges if edge.source == node.key}
    return {
        "workflow": workflow,
        "node": node,
        "index": index,
        "dom_id": dom_id(steps[index], index),
        # A step upstream of this one cannot also run after it (that would be a cycle).
        "targets": [
            other
            for other in nodes
            if other.key != node.key and other.key not in outgoing and other.key not in upstream
        ],
        "sources": [
            other
            for other in nodes
            if other.key != node.key and other.key not in node.after and other.key not in downstream
        ],
        "incoming": [edge for edge in edges if edge.target == node.key],
        "outgoing": [edge for edge in edges if edge.source == node.key],
    }


def dom_id(step, index):
    """An id that follows the step when it moves, so focus can follow it too."""
    key = drafts.key_of(step)
    return f"step-{key}" if key and key.isidentifier() else f"step-at-{index}"


def panel_context(request, workflow, index, fields):
    steps = drafts.steps_of(workflow.draft)
    step = steps[index]
    version = resolve(step.get("action"), workflow.workspace)
    retry = step.get("retry") if isinstance(step.get("retry"), dict) else {}
    compensate = step.get("compensate") if isinstance(step.get("compensate"), dict) else {}
    comp_retry = compensate.get("retry") if isinstance(compensate.get("retry"), dict) else {}
    own_key = drafts.key_of(step)
    chosen = step.get("after") if isinstance(step.get("after"), list) else []
    actions = palette(workflow.workspace)
    refs = {version.ref for _, versions in actions for version in versions}
    action = version.ref if version else _text(step.get("action"))
    compensate_action = _compensate_ref(compensate.get("action"), workflow.workspace)
    secrets = Secret.objects.filter(workspace=workflow.workspace).order_by("name")
    hints = run_form_hints(version) if version else {}
    fields_ = input_fields(
        version.input_schema if version else {},
        step.get("input"),
        secrets=list(secrets.values_list("name", flat=True)),
        ui=hints.get("ui"),
        order=hints.get("order", ()),
    )
    slots = _slots(step.get("type"))
    if step.get("type", "action") == "action" and fields_:
        slots = slots + [item.slot for item in fields_] + ["input-form"]
    errors = error_slots(fields, index)
    errors |= field_errors(fields_, fields, index)
    errors["input-form"] = _form_level(errors.get("input", []), fields_)
    routes = route_fields(request, step, steps, errors)
    slots = slots + routes.pop("route_slots")
    cases = case_fields(request, steps, index, errors)
    slots = slots + cases.pop("case_slots")
    return {
        "workflow": workflow,
        "index": index,
        "step": step,
        "key": own_key,
        "editable": can_edit(request),
        "action_version": version,
        "actions": actions,
        "action_selected": action,
        "action_listed": action in refs,
        "input_text": json_text(step.get("input", {})),
        "schema_fields": _schema_fields(version.input_schema if version else {}),
        "input_fields": fields_,
        "input_is_object": isinstance(step.get("input", {}), dict),
        "references": _references(workflow, steps, index),
        "reference_sources": reference_sources(workflow, steps, index),
        "condition_sources": condition_sources(workflow, steps, index, RUN_FIELDS),
        "offers_items": step.get("type", "action") == "action",
        "for_each_set": bool(step.get("for_each")),
        "sample_input": json_text(last_input(workflow)),
        "after_custom": "after" in step,
        "after_choices": [
            {"key": drafts.key_of(other), "checked": drafts.key_of(other) in chosen}
            for position, other in enumerate(steps)
            if position != index and drafts.key_of(other)
        ],
        "retry_custom": "retry" in step,
        "retry": {field: _text(retry.get(field)) for field in RETRY_FIELDS},
        "jitter": retry.get("jitter", True) is True,
        "timeout": _text(step.get("timeout_s")),
        "default_timeout": _text(version.timeout_s) if version else "",
        "compensate_action": compensate_action,
        "compensate_listed": not compensate_action or compensate_action in refs,
        "compensate_input": json_text(compensate.get("input", {})) if compensate else "{}",
        "compensate_retry_custom": "retry" in compensate,
        "compensate_retry": {field: _text(comp_retry.get(field)) for field in RETRY_FIELDS},
        "compensate_jitter": comp_retry.get("jitter", True) is True,
        "compensate_timeout": _text(compensate.get("timeout_s")),
        "errors": errors,
        "slots": slots,
        **decision_fields(step),
        **subflow_fields(workflow, step),
        **routes,
        **cases,
        "preview": preview(step, version),
        "default_policy": _policy_summary(version),
    }


def decision_fields(step):
    """The panel's decision fields: `when`, `after_any`, a switch's cases, `on_error`."""
    kind = step.get("type", "action")
    when = step.get("when")
    return {
        "type": kind if isinstance(kind, str) else json_text(kind),
        "types": list(STEP_TYPES),
        "is_switch": kind == "switch",
        "is_wait": kind in WAIT_FIELDS,
        "wait": wait_fields(step) if kind in WAIT_FIELDS else {},
        "when": when if isinstance(when, str) else "" if when is None else json_text(when),
        "after_any": step.get("after_any") is True,
        "on_error_text": json_text(step["on_error"]) if "on_error" in step else "",
        **{
            field: _text(step.get(field)) if step.get(field) is not None else ""
            for field in FOR_EACH_SLOTS
        },
        "cases_text": json_text(step.get("cases", [])),
        "default_text": json_text(step.get("default", [])),
    }


def route_fields(request, step, steps, errors):
    """`on_error` as form rows (and a blank one to add a route), or as JSON text when the
    user asked for it or the rows cannot show it. Moves each row's errors to its slot."""
    if step.get("type") == "switch":
        return {"route_slots": []}  # a switch has no error routes
    rows = error_routes.rows_of(step.get("on_error"))
    asked = request.POST.get("on_error_show") or request.POST.get("on_error_view")
    view = "json" if rows is None or asked == "json" else "form"
    if view == "json":
        return {"on_error_view": view, "route_form_ok": rows is not None, "route_slots": []}
    rows = [*rows, error_routes.Row(len(rows), (), "", ())]
    errors["on_error"], by_row = error_routes.row_errors(errors.get("on_error", []), rows)
    errors |= by_row
    own = drafts.key_of(step)
    keys = [drafts.key_of(other) for other in steps if drafts.key_of(other) not in ("", own)]
    return {
        "on_error_view": view,
        "route_form_ok": True,
        "route_rows": [
            {
                "row": row,
                "slot": f"on_error-{row.index}",
                "words": [(word, label, word in row.words) for word, label in error_routes.WORDS],
                "keys": [(key, key in row.next) for key in dict.fromkeys(keys + list(row.next))],
                "new": row.index == len(rows) - 1,
            }
            for row in rows
        ],
        "route_count": len(rows),
        "route_slots": list(by_row),
    }


def case_fields(request, steps, index, errors):
    """A switch's cases as ordered form rows (and a blank one for a new case) with the
    default's steps, or as JSON text when the user asked for it or the rows cannot show
    them. Moves each row's errors to its own slots."""
    step = steps[index]
    if step.get("type") != "switch":
        return {"case_slots": []}
    rows = switch_cases.rows_of(step.get("cases"))
    default = switch_cases.default_of(step.get("default"))
    form_ok = rows is not None and default is not None
    asked = request.POST.get("cases_show") or request.POST.get("cases_view")
    if not form_ok or asked == "json":
        return {"cases_view": "json", "case_form_ok": form_ok, "case_slots": []}
    rows = [*rows, switch_cases.Row(len(rows), "", "", ())]
    errors["cases"], by_row = switch_cases.row_errors(errors.get("cases", []), rows)
    errors |= by_row
    # A case runs steps that follow the switch: those it runs after are not offered.
    ruled_out = {"", drafts.key_of(step), *drafts.upstream_keys(steps, index)}
    keys = [drafts.key_of(other) for other in steps if drafts.key_of(other) not in ruled_out]
    last = len(rows) - 1
    # An autosave redraws only the error slots: those of the rows on the page (a row typed
    # into the blank one is not drawn until the panel is).
    shown = _count(request.POST.get("case_count"), len(rows))
    return {
        "cases_view": "form",
        "case_form_ok": True,
        "case_rows": [
            {
                "row": row,
                "id": f"case-{row.index}",
                "name_errors": by_row[f"case-{row.index}-name"],
                "next_errors": by_row[f"case-{row.index}-next"],
                "keys": [(key, key in row.next) for key in dict.fromkeys(keys + list(row.next))],
                "new": row.index == last,
                "first": row.index == 0,
                "last": row.index == last - 1,
            }
            for row in rows
        ],
        "case_count": len(rows),
        "default_keys": [(key, key in default) for key in dict.fromkeys(keys + list(default))],
        "case_slots": [slot for slot in by_row if int(slot.split("-")[1]) < shown],
    }


def _count(raw, fallback):
    try:
        return int(raw)
    except (TypeError, ValueError):
        return fallback


def subflow_fields(workflow, step):
    """A sub-workflow step's choices: the workspace's published workflows but this one."""
    if step.get("type") != "workflow":
        return {"is_subflow": False}
    published = (
        Workflow.objects.filter(workspace=workflow.workspace, versions__isnull=False)
        .exclude(id=workflow.id)
        .distinct()
        .order_by("name")
    )
    chosen = _text(step.get("workflow"))
    choices = [{"slug": w.slug, "name": w.name} for w in published]
    return {
        "is_subflow": True,
        "subflow_choices": choices,
        "subflow_selected": chosen,
        "subflow_listed": any(c["slug"] == chosen for c in choices),
        "subflow_version": _text(step.get("version", "latest")),
    }


def _slots(kind):
    if kind == "switch":
        return SWITCH_SLOTS
    if kind == "workflow":
        return SUBFLOW_SLOTS
    return WAIT_SLOTS if kind in WAIT_FIELDS else STEP_SLOTS


def wait_fields(step):
    """A wait step's fields as the panel shows them (text as typed)."""
    kind = step["type"]
    return {
        **{field: _text(step.get(field)) for field in ("for_s", "until", "event", "timeout_s")},
        "role": step.get("role", "editor"),
        "roles": APPROVER_ROLES,
        "on_timeout": step.get("on_timeout", "fail"),
        "policies": ON_TIMEOUT.get(kind, ()),
    }


def settings_context(request, workflow, fields):
    draft = workflow.draft if isinstance(workflow.draft, dict) else {}
    schema = draft.get("input_schema")
    return {
        "workflow": workflow,
        "editable": can_edit(request),
        "name": draft.get("name", "") if isinstance(draft.get("name"), str) else "",
        "description": draft.get("description", ""),
        "input_schema_text": json_text(schema) if schema is not None else "",
        **concurrency.form_values(draft),
        "run_timeout_s": run_timeout.form_value(draft),
        "errors": {slot: fields.get(slot, []) for slot in SETTINGS_SLOTS}
        | concurrency.slot_errors(fields),
        "slots": SETTINGS_SLOTS,
        "problems": _problems(workflow, fields),
        "empty": _is_empty(workflow),
    }


def _problems(workflow, fields):
    """Every error, with the step it belongs to, for the problems list."""
    steps = drafts.steps_of(workflow.draft)
    problems = []
    for path, messages in fields.items():
        index = _step_index(path)
        label = path
        if index is not None and index < len(steps):
            key = drafts.key_of(steps[index]) or f"step {index + 1}"
            label = key + path[len(f"steps[{index}]") :]
        for message in messages:
            problems.append({"index": index, "label": label or "definition", "message": message})
    return problems


def _step_index(path):
    if not path.startswith("steps["):
        return None
    number = path[len("steps[") :].split("]", 1)[0]
    return int(number) if number.isdigit() else None


def _form_level(messages, fields):
    """The input's errors that belong to no typed field ("must be an object", JSON syntax)."""
    names = tuple(f"{item.name}{end}" for item in fields for end in (":", ".", "["))
    return [message for message in messages if not message.startswith(names)]


def _schema_fields(schema):
    if not isinstance(schema, dict):
        return []
    required = set(schema.get("required") or [])
    fields = []
    for name, spec in (schema.get("properties") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        kind = spec.get("type", "any")
        fields.append(
            {
                "name": name,
                "type": "/".join(kind) if isinstance(kind, list) else kind,
                "required": name in required,
                "description": spec.get("description", ""),
            }
        )
    return fields


def _references(workflow, steps, index):
    """What this step's input may reference: run input, earlier steps, secrets, run id."""
    draft = workflow.draft if isinstance(workflow.draft, dict) else {}
    schema = draft.get("input_schema") if isinstance(draft.get("input_schema"), dict) else {}
    names = list((schema.get("properties") or {}).keys())
    refs = [f"input.{name}" for name in names] or ["input"]
    refs += [f"steps.{key}.output" for key in drafts.upstream_keys(steps, index)]
    secrets = Secret.objects.filter(workspace=workflow.workspace).order_by("name")
    refs += [f"secrets.{name}" for name in secrets.values_list("name", flat=True)]
    refs.append("run.id")
    return refs  # the for-each item's references are offered by the template


def _policy_summary(version):
    if version is None:
        return ""
    policy = preview({}, version)
    interval = duration(policy.policy.initial_interval_s)
    attempts = policy.attempts
    if attempts == 1:
        return f"no retry, timeout {duration(version.timeout_s)}"
    return (
        f"{attempts} attempts, from {interval} ×{policy.policy.backoff_coefficient:g}, "
        f"timeout {duration(version.timeout_s)}"
    )


def _compensate_ref(ref, workspace):
    """A compensation's action as the select lists it: pinned `name@version`."""
    if not ref:
        return ""
    version = resolve(ref, workspace)
    return version.ref if version else _text(ref)


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
