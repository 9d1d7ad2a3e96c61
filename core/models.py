"""Workspaces and who may do what in them; API keys and secrets that belong to one."""

import hashlib
import logging
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from core import masking, vault
from core.audit import AuditEntry, record  # noqa: F401 (AuditEntry: a model of this app)
from core.errors import SecretUnreadable
from core.key_order import KeepsKeyOrder, KeyOrderField
from core.retention import purge_before

log = logging.getLogger(__name__)


class Workspace(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Retention (runner/pruning.py): finished runs are deleted this many days after they
    # ended; failed, compensated and needs-review ones after the second; kept runs never.
    keep_runs_days = models.PositiveIntegerField(default=30)
    keep_failed_runs_days = models.PositiveIntegerField(default=90)

    def __str__(self):
        return self.name

    def role_of(self, user):
        if not user.is_authenticated:
            return None
        membership = self.memberships.filter(user=user).first()
        return membership.role if membership else None


class Role(models.TextChoices):
    OWNER = "owner"  # manages members, and everything an editor does
    EDITOR = "editor"  # changes workflows, actions, triggers; launches runs
    VIEWER = "viewer"  # sees everything, changes nothing


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user")
        ]

    def __str__(self):
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def can_edit(self):
        return self.role in (Role.OWNER, Role.EDITOR)

    @classmethod
    def add(cls, workspace, user, role):
        membership = cls.objects.create(workspace=workspace, user=user, role=role)
        label, data = user.get_username(), {"role": role}
        record("member.add", workspace, membership, object_type="member", label=label, data=data)
        return membership

    def change_role(self, role):
        before, self.role = self.role, role
        self.save(update_fields=["role"])
        data = {"from": before, "to": role}
        label = self.user.get_username()
        record("member.role", self.workspace, self, object_type="member", label=label, data=data)

    def remove(self):
        member_id = self.id
        self.delete()
        record(
            "member.remove",
            self.workspace,
            self,
            object_type="member",
            object_id=member_id,
            label=self.user.get_username(),
            data={"role": self.role},
        )

    def is_last_owner(self):
        """True for the only owner: a workspace keeps at least one (page and API alike)."""
        owners = Membership.objects.filter(workspace_id=self.workspace_id, role=Role.OWNER)
        return self.role == Role.OWNER and not owners.exclude(id=self.id).exists()


def _hash_key(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(models.Model):
    """A bearer key of one workspace: shown once, stored as a SHA-256 hash."""

    PREFIX = "bw_"

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    hashed = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # What the key may do, as a member of this role would in the browser.
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, workspace, name, role=Role.EDITOR):
        """Create a key; the raw key is returned once and never stored."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(
            workspace=workspace, name=name, prefix=raw[:10], hashed=_hash_key(raw), role=role
        )
        record(
            "api_key.create", workspace, key, object_type="api_key", label=name, data={"role": role}
        )
        return key, raw

    @classmethod
    def authenticate(cls, raw):
        if not raw or not raw.startswith(cls.PREFIX):
            return None
        key = cls.objects.select_related("workspace").filter(hashed=_hash_key(raw)).first()
        if key is None or key.revoked_at is not None:
            return None
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            # Written at most once a minute: a hot key must not turn every call into a write.
            cls.objects.filter(id=key.id).update(last_used_at=now)
        return key

    def revoke(self):
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
        record("api_key.revoke", self.workspace, self, object_type="api_key", label=self.name)


class Secret(models.Model):
    """A value steps reference as `{{ secrets.NAME }}`; resolved only inside the worker.

    Write-only for people: stored encrypted (core/vault.py), set and replaced on the
    secrets page or through the API, never shown again. `value` decrypts.
    """

    NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")  # whole name: NAME.fullmatch
    NAME_HELP = "1–64 capital letters, digits and _, starting with a letter (e.g. CRM_TOKEN)."
    MAX_BYTES = 8 * 1024

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=100)
    encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="unique_secret_name")
        ]

    def __str__(self):
        return self.name

    @property
    def value(self):
        """The plain value; SecretUnreadable when SECRET_KEY changed since it was saved."""
        return vault.decrypt(self.encrypted, self.name)

    @value.setter
    def value(self, text):
        self.encrypted = vault.encrypt(text)

    @property
    def readable(self):
        """False for a value saved under a SECRET_KEY this server no longer has."""
        try:
            return self.value is not None
        except SecretUnreadable:
            return False

    @classmethod
    def set(cls, workspace, name, value):
        """Create or replace the secret `name`: (secret, created). The audit entry has the
        name only."""
        secret, created = cls.objects.update_or_create(
            workspace=workspace, name=name, defaults={"encrypted": vault.encrypt(value)}
        )
        record("secret.create" if created else "secret.replace", workspace, secret, label=name)
        return secret, created

    def remove(self):
        secret_id = self.id
        self.delete()
        record("secret.delete", self.workspace, self, object_id=secret_id, label=self.name)

    @classmethod
    def values_of(cls, workspace_id):
        """{name: value} of the workspace's secrets; unreadable ones are left out and logged.

        Left out, a step that needs one fails for good with a missing reference instead of
        sending garbage; the secrets page marks it for someone to set again.
        """
        values = {}
        for secret in cls.objects.filter(workspace_id=workspace_id).only("name", "encrypted"):
            try:
                values[secret.name] = secret.value
            except SecretUnreadable as error:
                log.warning("%s (workspace %s)", error, workspace_id)
        return values

    @classmethod
    def check_name(cls, name):
        """What is wrong with a name someone chose: [] when nothing."""
        return [] if cls.NAME.fullmatch(name or "") else [f"Use {cls.NAME_HELP}"]

    @classmethod
    def check_value(cls, value):
        """What is wrong with a value someone wants to save: [] when nothing."""
        if not (value or "").strip():
            return ["Enter the value."]
        if len(value) < masking.MIN_LENGTH:
            # Shown values are masked wherever a secret occurs: a shorter one would mask
            # ordinary words everywhere, and so give itself away.
            return [f"At least {masking.MIN_LENGTH} characters: shorter values cannot be masked."]
        size = len(value.encode())
        if size > cls.MAX_BYTES:
            return [f"At most 8 KiB (8,192 bytes); this value has {size:,} bytes."]
        return []


class WorkerHeartbeat(models.Model):
    """One row per live worker process; the sweeper and /healthz read it."""

    worker = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.IntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return self.worker


class ActionKind(models.TextChoices):
    PYTHON = "python"  # a function registered in code with @action
    HTTP = "http"  # a declarative request template built in the UI
    SCRIPT = "script"  # a command run in a subprocess, JSON in and out (staff only)


class Action(models.Model):
    """A named unit of work. Built-in and code-registered actions have no workspace."""

    workspace = models.ForeignKey(
        Workspace, models.CASCADE, null=True, blank=True, related_name="actions"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"], name="unique_action_name_per_workspace"
            ),
            # NULLs are distinct in a unique index: built-ins need their own.
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(workspace__isnull=True),
                name="unique_builtin_action_name",
            ),
        ]
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_builtin(self):
        return self.workspace_id is None

    def latest_version(self):
        return self.versions.order_by("-version").first()


class ActionVersion(KeepsKeyOrder, models.Model):
    """An immutable version of an action: what it accepts, how it is retried, how it runs.

    Its JSON comes back in the key order it was written in (core/key_order.py): the action
    page, the API and the step panel's fields show it so, and an HTTP action sends its body
    so. Workers read each version once (runner/run_state.py), so this costs no step.
    """

    action = models.ForeignKey(Action, models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=ActionKind.choices)
    input_schema = models.JSONField(default=dict)
    output_schema = models.JSONField(null=True, blank=True)
    retry_policy = models.JSONField(default=dict)
    timeout_s = models.FloatField(default=30)
    # http: the request template; script: the command and its arguments.
    config = models.JSONField(default=dict, blank=True)
    input_schema_keys = KeyOrderField(source="input_schema")
    output_schema_keys = KeyOrderField(source="output_schema")
    config_keys = KeyOrderField(source="config")
    # python: the decorator's version= and a hash of what it declares, so a
    # changed schema makes a new version on the next sync.
    code_version = models.PositiveIntegerField(default=1)
    fingerprint = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "version"], name="unique_action_version")
        ]
        ordering = ["action_id", "-version"]

    def __str__(self):
        return f"{self.action.name}@{self.version}"

    @property
    def ref(self):
        return f"{self.action.name}@{self.version}"


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` on a POST that creates a run.

    The same key with the same request gives back the same run for `TTL`; with another
    request it is a conflict. The unique (workspace, key) constraint is what makes
    concurrent duplicates collapse: the second INSERT waits for the first transaction,
    then fails, and reads the run the first one made.
    """

    TTL = timedelta(hours=24)

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and canonical JSON body (without `wait`).
    body_hash = models.CharField(max_length=64)
    # Null only inside the transaction that inserts the key and starts the run.
    run = models.ForeignKey("runner.Run", models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="unique_idempotency_key")
        ]

    def __str__(self):
        return self.key

    @property
    def expired(self):
        return timezone.now() - self.created_at > self.TTL

    @classmethod
    def purge_expired(cls, now=None, batch=1000):
        """Delete up to `batch` keys past their TTL (they no longer hold anything); the count."""
        return purge_before(cls, "created_at", (now or timezone.now()) - cls.TTL, batch)
