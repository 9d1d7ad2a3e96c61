"""The audit log: an append-only record of who did what to which object, and when.

`record()` is called where the thing happens, in the domain function the pages and the
API share (or in the one view that does it), after it succeeded. The actor is the
signed-in person or the API key of the request being answered (core/request_context.py),
with its address and user agent; outside a request there is none (the system did it).
Entries carry names and non-secret details only: never a secret's value, a key or a token.
Kept AUDIT_RETENTION_DAYS (runner/pruning.py deletes older ones).
"""

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.request_context import current_request
from core.retention import purge_before


class AuditEntry(models.Model):
    # Null for what happens outside a workspace (a failed sign-in).
    workspace = models.ForeignKey(
        "core.Workspace", models.CASCADE, null=True, blank=True, related_name="+"
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        "core.ApiKey", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The username or the key's name at the time: still readable once either is gone.
    actor_label = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=64)  # a dotted verb: workflow.publish
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The page and the API list one workspace's entries newest first (by id), filtered
        # by one of these; `at` alone serves the date range and retention.
        indexes = [
            models.Index(fields=["workspace", "action", "id"], name="audit_action"),
            models.Index(fields=["workspace", "actor_label", "id"], name="audit_actor"),
            models.Index(
                fields=["workspace", "object_type", "object_id", "id"], name="audit_object"
            ),
            models.Index(fields=["workspace", "at"], name="audit_at"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.actor_label or 'system'} {self.action} {self.object_label}".strip()

    @property
    def actor_kind(self):
        if self.actor_api_key_id:
            return "api_key"
        return "user" if self.actor_user_id else "system"

    @classmethod
    def purge_expired(cls, now=None, batch=1000):
        """Delete up to `batch` entries older than AUDIT_RETENTION_DAYS; the count."""
        cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
        return purge_before(cls, "at", cutoff, batch)


def record(action, workspace=None, obj=None, *, object_type="", object_id="", label="", data=None):
    """Append one entry: `action` (a dotted verb) on `obj` (a model instance, or None)
    in `workspace`, by the current request's actor. `data`: details, never secret values.

    Parameters:
      object_type, object_id, label: override the model's name, `obj.pk` and `str(obj)`;
        a deleted object has no pk any more, so its deleter passes the id it had.
    """
    made = entry(
        action, workspace, obj, object_type=object_type, object_id=object_id, label=label, data=data
    )
    made.save(force_insert=True)
    return made


def entry(action, workspace=None, obj=None, *, object_type="", object_id="", label="", data=None):
    """The entry `record` appends, not saved: for a caller that writes it with its own
    rows, in their statement (a run's start: runner/launch.py)."""
    request = current_request()
    key = getattr(request, "api_key", None)
    user = getattr(request, "user", None)
    user = user if key is None and user is not None and user.is_authenticated else None
    actor = key.name if key is not None else (user.get_username() if user else "")
    return AuditEntry(
        workspace=workspace,
        actor_user=user,
        actor_api_key=key,
        actor_label=actor,
        ip=_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300] if request else "",
        action=action,
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_id=str(object_id or (obj.pk if obj is not None and obj.pk is not None else "")),
        object_label=(label or (str(obj) if obj is not None else ""))[:200],
        data=data or {},
    )


def _address(request):
    """REMOTE_ADDR, as the sign-in brake reads it; None when it is no address."""
    raw = request.META.get("REMOTE_ADDR", "") if request else ""
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def record_save(kind, workspace, obj, created, fields):
    """`<kind>.create` or `<kind>.update`, with the names of the fields set (not their
    values: a webhook's secret or a schedule's input may be among them)."""
    action = f"{kind}.create" if created else f"{kind}.update"
    return record(action, workspace, obj, object_type=kind, data={"fields": sorted(fields)})


def delete_recorded(kind, workspace, obj):
    """Delete `obj` and record `<kind>.delete` with the id and name it had."""
    object_id, label = obj.pk, str(obj)
    obj.delete()
    return record(
        f"{kind}.delete", workspace, obj, object_type=kind, object_id=object_id, label=label
    )
