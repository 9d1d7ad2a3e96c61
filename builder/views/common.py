"""What every builder view needs: the workflow of the URL and the state of its draft."""

from django.shortcuts import get_object_or_404

from builder.definition import validate
from builder.models import Workflow
from core.errors import InvalidDefinition


def get_workflow(request, slug, lock=False):
    """The workflow `slug` of the request's workspace; another workspace's is a 404.

    `lock` (inside a transaction) serializes edits of one draft: two tabs, or an autosave
    racing a move, each read the draft the other wrote instead of overwriting it.
    """
    workflows = Workflow.objects.select_for_update() if lock else Workflow.objects
    return get_object_or_404(workflows, workspace=request.workspace, slug=slug)


def check(definition, workspace, slug=None):
    """(normalized definition, {}) when valid, else (None, {field path: [messages]}).
    `slug`: the workflow it defines (a sub-workflow must not run it again)."""
    try:
        return validate(definition, workspace, slug), {}
    except InvalidDefinition as error:
        return None, error.fields


def merge_errors(fields, local):
    """The validator's errors, where the form's own (JSON that did not parse) win."""
    merged = {path: messages for path, messages in fields.items() if path not in local}
    merged.update(local)
    return merged


def save_draft(workflow, draft):
    """Store the draft as it is, valid or not: an edit is never lost."""
    workflow.draft = draft
    fields = ["draft", "updated_at"]
    name = draft.get("name")
    if isinstance(name, str) and name.strip() and name.strip() != workflow.name:
        workflow.name = name.strip()[:200]
        fields.append("name")
    workflow.save(update_fields=fields)
