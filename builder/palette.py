"""The actions a workspace can put in a workflow: the builder's palette and its look-ups."""

from django.db.models import Q

from builder.definition import ACTION_REF
from core.models import Action, ActionVersion

# The steps the engine runs itself, offered beside the actions: (type, icon, what it does).
FLOW_STEPS = [
    ("switch", "◇", "Choose one branch by conditions"),
    ("workflow", "▣", "Run another workflow as a child run"),
    ("sleep", "◷", "Pause for a time, or until one"),
    ("event", "⚑", "Wait for an event sent to the run"),
    ("approval", "✓", "Wait for a member to approve"),
]


def visible_actions(workspace):
    return Action.objects.filter(Q(workspace__isnull=True) | Q(workspace=workspace))


def palette(workspace):
    """[(group, [ActionVersion, ...]), ...]: each action's latest version, grouped by prefix."""
    latest = {}
    versions = ActionVersion.objects.filter(action__in=visible_actions(workspace))
    for version in versions.select_related("action").order_by("action__name", "-version"):
        latest.setdefault(version.action.name, version)
    groups = {}
    for name, version in latest.items():
        groups.setdefault(name.split(".", 1)[0], []).append(version)
    return sorted(groups.items())


def resolve(ref, workspace):
    """The ActionVersion a step's `action` names (`name` = latest, `name@3`), or None."""
    match = ACTION_REF.match(ref) if isinstance(ref, str) else None
    if match is None:
        return None
    versions = ActionVersion.objects.filter(
        action__in=visible_actions(workspace).filter(name=match["name"])
    ).select_related("action")
    if match["version"]:
        return versions.filter(version=int(match["version"])).first()
    return versions.order_by("-version").first()
