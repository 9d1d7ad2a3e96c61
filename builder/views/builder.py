"""The builder page and its HTMX edits: add, reorder, move, remove and edit steps.

The server is the source of truth: every edit is saved to `Workflow.draft` at once
(valid or not) and answers with the re-rendered canvas, plus out-of-band regions
(step panel, status) that the edit changed. Without JavaScript the same POSTs
redirect back to the page.
"""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from builder import concurrency, edges, run_timeout, switch_cases
from builder import draft as drafts
from builder.definition import KEY, MAX_STEPS
from builder.palette import FLOW_STEPS, palette, resolve
from builder.step_form import clean, parse_json_field, parse_step
from builder.views.common import get_workflow, save_draft
from builder.views.context import (
    canvas_context,
    connect_context,
    dom_id,
    draft_state,
    panel_context,
    settings_context,
    status_context,
)
from core.models import Role
from core.workspaces import workspace_view

# ---- Pages and regions ----------------------------------------------------------------


@workspace_view()
@require_GET
def builder(request, slug):
    workflow = get_workflow(request, slug)
    selected = _selected(workflow, request.GET.get("step"))
    normalized, fields = draft_state(workflow)
    context = {
        **status_context(workflow, normalized, fields),
        **canvas_context(workflow, fields, selected),
        "palette": palette(request.workspace),
        "flow_palette": FLOW_STEPS,
        "panel": _panel(request, workflow, selected, fields),
    }
    return render(request, "builder/builder.html", context)


@workspace_view()
@require_GET
def step_panel(request, slug, index):
    workflow = get_workflow(request, slug)
    steps = _check_index(workflow, index)
    # A card clicked right after a drag may still carry its old position: its key wins.
    key = request.GET.get("key")
    if key and drafts.key_of(steps[index]) != key:
        keys = [drafts.key_of(step) for step in steps]
        index = keys.index(key) if key in keys else index
    return _regions(request, workflow, selected=index, panel=True)


@workspace_view()
@require_GET
def settings_panel(request, slug):
    workflow = get_workflow(request, slug)
    return _regions(request, workflow, selected=None, panel=True)


# ---- Edits of the step list -----------------------------------------------------------


@workspace_view(min_role=Role.EDITOR)
@require_POST
@transaction.atomic
def add_step(request, slug):
    workflow = get_workflow(request, slug, lock=True)
    ref = request.POST.get("action", "")
    version = drafts.flow_kind(ref) or resolve(ref, request.workspace)  # an action or not
    if version is None:
        return _refused(request, workflow, "Choose an action from the palette.")
    if len(drafts.steps_of(workflow.draft)) >= MAX_STEPS:
        return _refused(request, workflow, f"A workflow has at most {MAX_STEPS} steps.")
    if "graph" in request.POST:
        # Dropped on the graph: on a node (after=that node), on an edge (after=its source,
        # before=its target) or on the empty canvas (a step that waits for nothing).
        after = [key for key in request.POST.get("after", "").split(",") if key]
        try:
            draft, index = edges.insert_step(
                workflow.draft, version, after=after, before=request.POST.get("before") or None
            )
        except edges.EdgeError as error:
            return _refused(request, workflow, str(error))
    else:
        position = _number(request.POST.get("position"))
        draft, index = drafts.add_step(workflow.draft, version, position)
    save_draft(workflow, draft)
    key = drafts.key_of(drafts.steps_of(draft)[index])
    return _regions(request, workflow, selected=index, panel=True, announce=f"Added step {key}.")


@workspace_view(min_role=Role.EDITOR)
@require_POST
@transaction.atomic
def reorder_steps(request, slug):
    workflow = get_workflow(request, slug, lock=True)
    raw = request.POST.get("order", "")
    order = [_number(part) for part in raw.split(",")] if raw else []
    try:
        draft = drafts.reorder(workflow.draft, order)
    except (ValueError, TypeError):
        return _refused(request, workflow, "That order does not match the steps; reloaded.")
    save_draft(workflow, draft)
    selected = _number(request.POST.get("selected"))
    moved = order.index(selected) if selected in order else None
    return _regions(request, workflow, selected=moved, panel=True, announce="Steps reordered.")


@workspace_view(min_role=Role.EDITOR)
@require_POST
@transaction.atomic
def move_step(request, slug, index):
    workflow = get_workflow(request, slug, lock=True)
    steps = _check_index(workflow, index)
    delta = {"up": -1, "down": 1}.get(request.POST.get("direction"))
    if delta is None:
        return _refused(request, workflow, "Move a step up or down.")
    target = index + delta
    if not 0 <= target < len(steps):
        return _refused(request, workflow, "That step cannot move further.", status=200)
    save_draft(workflow, drafts.move_step(workflow.draft, index, delta))
    selected = _number(request.POST.get("selected"))
    if selected == index:
        selected = target
    elif selected == target:
        selected = index
    key = drafts.key_of(steps[index])
    direction = "up" if delta < 0 else "down"
    return _regions(
        request,
        workflow,
        selected=selected,
        panel=selected is not None,
        announce=f"Moved {key} {direction} to position {target + 1}.",
    )


@workspace_view(min_role=Role.EDITOR)
@require_POST
@transaction.atomic
def remove_step(request, slug, index):
    workflow = get_workflow(request, slug, lock=True)
    steps = _check_index(workflow, index)
    save_draft(workflow, drafts.remove_step(workflow.draft, index))
    selected = _number(request.POST.get("selected"))
    if selected == index:
        selected = None
    elif selected is not None and selected > index:
        selected -= 1
    remaining = drafts.steps_of(workflow.draft)
    # Focus goes to the step that took the removed one's place, else back to the palette.
    focus = _dom_id_at(workflow, min(index, len(remaining) - 1)) if remaining else None
    return _regions(
        request,
        workflow,
        selected=selected,
        panel=True,
        announce=f"Removed step {drafts.key_of(steps[index])}.",
        focus=f"{focus}-edit" if focus else "palette-heading",
    )


@workspace_view(min_role=Role.EDITOR)
@require_POST
@transaction.atomic
def link_steps(request, slug):
    """Add (`op=add`) or remove (`op=remove`) the edge `source` → `target`: whether
    `target` waits for `source`."""
    workflow = get_workflow(request, slug, lock=True)
    source, target = request.POST.get("source", ""), request.POST.get("target", "")
    change = {"add": edges.connect, "remove": edges.disconnect}.get(request.POST.get("op"))
    if change is None:
        return _refused(request, workflow, "Add or remove an edge.")
    try:
        draft = change(workflow.draft, source, target)
    except edges.EdgeError as error:
        return _refused(request, workflow, str(error))
    save_draft(workflow, draft)
    if request.POST.get("op") == "add":
        announce = f"Connected: {target} now runs after {source}."
    else:
        announce = f"Disconnected: {target} no longer runs after {source}."
    selected = _number(request.POST.get("selected"))
    return _regions(
        request,
        workflow,
        selected=selected,
        panel=selected is not None,
        announce=announce,
        focus=request.POST.get("focus") or None,
    )


@workspace_view()
@require_GET
def connect_dialog(request, slug, index):
    """The keyboard's way to draw and delete edges: the other steps as a list to pick from."""
    workflow = get_workflow(request, slug)
    steps = _check_index(workflow, index)
    return render(request, "builder/_connect.html", connect_context(workflow, steps, index))


# ---- Autosave of the panels -----------------------------------------------------------


@workspace_view(min_role=Role.EDITOR)
@require_POST
@transaction.atomic
def save_step(request, slug, index):
    workflow = get_workflow(request, slug, lock=True)
    steps = _check_index(workflow, index)
    old_key = drafts.key_of(steps[index])
    previous = drafts.key_of(steps[index - 1]) if index else None
    step, local = parse_step(request.POST, index, previous, stored=steps[index])
    draft = drafts.replace_step(workflow.draft, index, step)
    new_key = step["key"]
    taken = {drafts.key_of(other) for position, other in enumerate(steps) if position != index}
    if old_key != new_key and _valid_key(old_key) and _valid_key(new_key) and new_key not in taken:
        draft = drafts.rename_key(draft, old_key, new_key)
    save_draft(workflow, draft)
    if not request.htmx:
        return redirect(_builder_url(workflow, index))
    rerender = "rerender" in request.POST
    focus, announce = None, ""
    if rerender and isinstance(step.get("cases"), list):
        focus, announce = switch_cases.after_edit(request.POST, step["cases"])
    return _regions(
        request,
        workflow,
        selected=index,
        panel=rerender,
        local=local,
        saved=True,
        announce=announce,
        focus=focus,
    )


@workspace_view(min_role=Role.EDITOR)
@require_POST
@transaction.atomic
def save_settings(request, slug):
    workflow = get_workflow(request, slug, lock=True)
    draft = dict(workflow.draft) if isinstance(workflow.draft, dict) else {}
    local = {}
    draft["name"] = clean(request.POST.get("name", "")).strip()
    description = clean(request.POST.get("description", "")).strip()
    if description:
        draft["description"] = description
    else:
        draft.pop("description", None)
    schema_text = request.POST.get("input_schema", "")
    if schema_text.strip():
        draft["input_schema"] = parse_json_field(schema_text, "input_schema", local)
    else:
        draft.pop("input_schema", None)
    concurrency.from_form(request.POST, draft)
    run_timeout.from_form(request.POST, draft)
    draft.setdefault("steps", [])
    save_draft(workflow, draft)
    if not request.htmx:
        return redirect(_builder_url(workflow))
    return _regions(request, workflow, selected=None, panel=False, local=local, saved=True)


# ---- Helpers --------------------------------------------------------------------------


def _regions(
    request,
    workflow,
    *,
    selected,
    panel,
    local=None,
    saved=False,
    announce="",
    focus=None,
    status=200,
):
    """The canvas, with the status and (when `panel`) the side panel out of band.

    `saved` answers an autosave: the panel is not re-rendered (the user is typing in it);
    only its error slots and retry preview are, out of band.
    """
    if selected is not None and not 0 <= selected < len(drafts.steps_of(workflow.draft)):
        selected = None  # a stale or forged selection: show the workflow's settings
    if not request.htmx:
        return redirect(_builder_url(workflow, selected))
    normalized, fields = draft_state(workflow, local)
    context = {
        **status_context(workflow, normalized, fields),
        **canvas_context(workflow, fields, selected),
        "panel": _panel(request, workflow, selected, fields) if (panel or saved) else None,
        "show_panel": panel,
        "saved": saved and not panel,
        "announce": announce,
        "focus": focus or "",
    }
    return render(request, "builder/_regions.html", context, status=status)


def _panel(request, workflow, selected, fields):
    if selected is None:
        return {"kind": "settings", **settings_context(request, workflow, fields)}
    return {"kind": "step", **panel_context(request, workflow, selected, fields)}


def _refused(request, workflow, message, status=422):
    """An edit that could not be made: the canvas as stored, and why."""
    if not request.htmx:
        messages.error(request, message)
        return redirect(_builder_url(workflow))
    selected = _number(request.POST.get("selected"))
    if selected is not None and not 0 <= selected < len(drafts.steps_of(workflow.draft)):
        selected = None
    return _regions(
        request, workflow, selected=selected, panel=False, announce=message, status=status
    )


def _check_index(workflow, index):
    steps = drafts.steps_of(workflow.draft)
    if not 0 <= index < len(steps):
        raise Http404("No such step")
    return steps


def _selected(workflow, raw):
    index = _number(raw)
    if index is None or not 0 <= index < len(drafts.steps_of(workflow.draft)):
        return None
    return index


def _number(raw):
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _valid_key(key):
    return bool(key) and KEY.match(key) is not None


def _dom_id_at(workflow, index):
    return dom_id(drafts.steps_of(workflow.draft)[index], index)


def _builder_url(workflow, selected=None):
    url = reverse("workflow_builder", args=[workflow.workspace.slug, workflow.slug])
    return f"{url}?step={selected}" if selected is not None else url
