"""Reading the audit log: one workspace's entries, filtered as the page and the API offer.

Newest first by id, a page at a time from a cursor (the id to go below), over the
(workspace, action | actor_label | object, id) indexes of core/audit.py.
"""

from core.audit import AuditEntry

# Every action recorded, by family: the page's choices, the API's documentation.
ACTIONS = {
    "workflow": ["publish", "restore", "import", "archive", "unarchive", "delete"],
    "run": ["start", "rerun", "cancel", "resolve", "reopen", "approve", "reject"],
    "trigger": ["create", "update", "delete"],
    "schedule": ["create", "update", "delete"],
    "limit": ["create", "update", "delete"],
    "alert_rule": ["create", "update", "delete"],
    "secret": ["create", "replace", "delete"],
    "api_key": ["create", "revoke"],
    "member": ["add", "role", "remove"],
    "workspace": ["retention"],
    "auth": ["sign_in_failed", "lockout"],
}
ACTION_PATTERN = r"^[a-z_]{1,30}(\.[a-z_]{1,30})?$"
OBJECT_PATTERN = r"^[a-z_]{1,50}(:[^\s]{1,64})?$"


def entries(workspace, *, action="", actor="", object="", since=None, until=None):
    """The workspace's entries matching every filter given.

    action: `workflow.publish`, or a family (`workflow`) for all of its verbs.
    actor: a username or an API key's name, exactly.
    object: a type (`workflow`), or a type and id (`workflow:12`).
    since, until: aware datetimes; `until` is excluded.
    """
    rows = AuditEntry.objects.filter(workspace=workspace).select_related(
        "actor_user", "actor_api_key"
    )
    if action:
        rows = (
            rows.filter(action=action)
            if "." in action
            else rows.filter(action__startswith=action + ".")
        )
    if actor:
        rows = rows.filter(actor_label=actor)
    if object:
        kind, _, object_id = object.partition(":")
        rows = rows.filter(object_type=kind)
        if object_id:
            rows = rows.filter(object_id=object_id)
    if since:
        rows = rows.filter(at__gte=since)
    if until:
        rows = rows.filter(at__lt=until)
    return rows


def page(rows, cursor=None, size=50):
    """Up to `size` of `rows` below id `cursor`, newest first, and the next cursor or None."""
    if cursor:
        rows = rows.filter(id__lt=cursor)
    found = list(rows.order_by("-id")[: size + 1])
    more = len(found) > size
    found = found[:size]
    return found, (found[-1].id if more else None)


def entry_out(entry):
    """An entry as the API answers it."""
    return {
        "id": entry.id,
        "at": entry.at,
        "action": entry.action,
        "actor": {"kind": entry.actor_kind, "name": entry.actor_label},
        "ip": entry.ip,
        "user_agent": entry.user_agent,
        "object": {"type": entry.object_type, "id": entry.object_id, "label": entry.object_label},
        "data": entry.data,
    }
