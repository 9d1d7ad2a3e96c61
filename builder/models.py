"""Workflows: an editable draft, immutable numbered versions made by publishing it, and
the triggers (webhooks) that start them from outside.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from core import vault
from core.audit import record
from core.key_order import KeepsKeyOrder, KeyOrderField
from core.models import Workspace
from core.retention import purge_before


class Workflow(KeepsKeyOrder, models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="workflows")
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    draft = models.JSONField(default=dict)
    # The key order the draft was written in, where the database re-sorts it: the builder,
    # export and API show it back as written (core/key_order.py).
    draft_keys = KeyOrderField(source="draft")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Archived: kept with its versions and runs, but starts no new run.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="unique_workflow_slug")
        ]
        ordering = ["name"]

    def __str__(self):
        return self.name

    def set_archived(self, archived):
        """Archive or unarchive; False when it already was. An archived workflow keeps its
        versions and runs but starts no new run."""
        if archived == (self.archived_at is not None):
            return False
        self.archived_at = timezone.now() if archived else None
        self.save(update_fields=["archived_at", "updated_at"])
        record("workflow.archive" if archived else "workflow.unarchive", self.workspace, self)
        return True

    def latest_version(self):
        return self.versions.order_by("-number").first()

    def publish(self, definition, note="", user=None):
        """Freeze a validated definition as the next version number."""
        with transaction.atomic():
            # Lock the workflow so two publishes cannot take the same number.
            Workflow.objects.select_for_update().filter(id=self.id).first()
            latest = self.versions.order_by("-number").first()
            version = WorkflowVersion.objects.create(
                workflow=self,
                number=(latest.number + 1) if latest else 1,
                definition=definition,
                note=note,
                created_by=user,
            )
            record("workflow.publish", self.workspace, self, data={"version": version.number})
            return version


class WorkflowVersion(KeepsKeyOrder, models.Model):
    """Never updated: runs are pinned to it. The definition's actions are pinned too."""

    workflow = models.ForeignKey(Workflow, models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    definition_keys = KeyOrderField(source="definition")  # as for Workflow.draft
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="unique_version_number")
        ]
        ordering = ["workflow_id", "-number"]

    def __str__(self):
        return f"{self.workflow.name} v{self.number}"


class Trigger(models.Model):
    """A way to start a workflow from outside: a webhook at `POST /hooks/<token>`.

    The token is the secret part of the URL (192 random bits). A signature check and
    an event-id dedup are optional, per trigger; see builder/webhooks.py.
    """

    class Kind(models.TextChoices):
        WEBHOOK = "webhook"

    class InputMode(models.TextChoices):
        ENVELOPE = "envelope"  # {"body": ..., "headers": {selected}, "query": {...}}
        BODY = "body"  # the body alone

    class Signature(models.TextChoices):
        NONE = "none"
        # `Brickwork-Signature: t=<unix>,v1=<hex>` over "<t>.<raw body>" (Stripe's scheme).
        TIMESTAMPED = "timestamped"
        # `<header>: <prefix><hex HMAC of the raw body>` (GitHub: X-Hub-Signature-256: sha256=).
        HMAC = "hmac"

    workflow = models.ForeignKey(Workflow, models.CASCADE, related_name="triggers")
    name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WEBHOOK)
    token = models.CharField(max_length=64, unique=True)
    enabled = models.BooleanField(default=True)
    input_mode = models.CharField(
        max_length=10, choices=InputMode.choices, default=InputMode.ENVELOPE
    )
    # Names of the request headers copied into the run input (envelope mode).
    headers = models.JSONField(default=list, blank=True)
    # Accept a body that is not JSON; the run then gets it as a string.
    accept_text = models.BooleanField(default=False)
    signature = models.CharField(max_length=20, choices=Signature.choices, default=Signature.NONE)
    # The signing secret, encrypted like workspace secrets (core/vault.py); `secret` reads it.
    encrypted_secret = models.TextField(blank=True)
    signature_header = models.CharField(max_length=100, blank=True)
    signature_algorithm = models.CharField(max_length=10, default="sha256")
    signature_prefix = models.CharField(max_length=50, blank=True)
    # A header naming the event (X-GitHub-Delivery): a second delivery of it starts nothing.
    event_id_header = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name or f"webhook {self.id}"

    @staticmethod
    def new_token():
        return secrets.token_urlsafe(24)  # 192 bits

    @property
    def secret(self):
        """The signing secret ("" when none); SecretUnreadable when the key that saved it is
        gone. Decrypted once per loaded row: the webhook cache keeps rows for a while."""
        if not self.encrypted_secret:
            return ""
        cached = getattr(self, "_secret", None)
        if cached is None or cached[0] != self.encrypted_secret:
            cached = self._secret = (
                self.encrypted_secret,
                vault.decrypt(self.encrypted_secret, str(self)),
            )
        return cached[1]

    @secret.setter
    def secret(self, text):
        self.encrypted_secret = vault.encrypt(text) if text else ""

    @property
    def signature_header_name(self):
        if self.signature == self.Signature.TIMESTAMPED:
            return self.signature_header or "Brickwork-Signature"
        return self.signature_header

    def config_errors(self):
        """Settings that cannot work together, as {field: [messages]}; empty when fine."""
        errors = {}
        if self.signature != self.Signature.NONE and not self.encrypted_secret:
            errors["secret"] = ["a signature check needs a secret"]
        if self.signature == self.Signature.HMAC and not self.signature_header:
            errors["signature_header"] = ["name the header that carries the signature"]
        if self.accept_text and self.input_mode == self.InputMode.BODY:
            # A run's input is an object: a text body can only travel in the envelope.
            errors["accept_text"] = ['a text body needs input_mode "envelope"']
        return errors


class WebhookDelivery(models.Model):
    """One request to a trigger's URL, whatever became of it."""

    class Verdict(models.TextChoices):
        ACCEPTED = "accepted"  # a run started
        DUPLICATE = "duplicate"  # its event id was seen before: answered with that run
        DISABLED = "disabled"
        BAD_SIGNATURE = "bad_signature"
        STALE = "stale"  # signed too long ago (a replay)
        TOO_LARGE = "too_large"
        MALFORMED = "malformed"  # not JSON, and the trigger wants JSON
        REJECTED = "rejected"  # the workflow refused it (no published version, bad input)

    # Indexed by delivery_recent, which leads with it.
    trigger = models.ForeignKey(Trigger, models.CASCADE, related_name="deliveries", db_index=False)
    received_at = models.DateTimeField(auto_now_add=True)
    size = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField()
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    message = models.CharField(max_length=500, blank=True)
    event_id = models.CharField(max_length=200, blank=True)
    run = models.ForeignKey("runner.Run", models.SET_NULL, null=True, blank=True, related_name="+")
    # The request as received, to read and replay: headers with credentials and signatures
    # masked before they are stored (builder/webhooks.py), the query and the raw body.
    headers = models.JSONField(default=dict, blank=True)
    query = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)

    class Meta:
        constraints = [
            # Two deliveries of one event at once still start one run: the second INSERT
            # waits for the first transaction and fails.
            models.UniqueConstraint(
                fields=["trigger", "event_id"],
                condition=models.Q(verdict="accepted") & ~models.Q(event_id=""),
                name="one_run_per_webhook_event",
            )
        ]
        indexes = [models.Index(fields=["trigger", "-id"], name="delivery_recent")]
        ordering = ["-id"]

    def __str__(self):
        return f"{self.verdict} ({self.status_code})"

    @classmethod
    def purge_expired(cls, now=None, batch=1000):
        """Delete up to `batch` deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS; the count.

        An event delivered again after that starts a run again: the delivery that recorded
        its id is gone.
        """
        kept = timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
        return purge_before(cls, "received_at", (now or timezone.now()) - kept, batch)
