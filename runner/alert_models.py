"""Alert rules, the alerts they raised, and each delivery of an alert to a channel.

Imported by runner/models.py, so these are models of the runner app. The sweeper raises
alerts from the run events (runner/alerts.py) and delivers them (runner/alert_channels.py),
after the engine's transactions have committed, never inside them.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.db import models

from core import vault
from core.models import Workspace


class AlertEvent(models.TextChoices):
    FAILED = "failed", "A run failed"
    COMPENSATED = "compensated", "A run was compensated"
    NEEDS_REVIEW = "needs_review", "A run needs review (a compensation failed)"
    LONG_RUN = "long_run", "A run takes longer than a duration"
    SCHEDULE_MISSED = "schedule_missed", "A schedule did not fire"


class AlertRule(models.Model):
    """When to alert whom: on these events of the workspace's runs (or one workflow's)."""

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="alert_rules")
    workflow = models.ForeignKey(
        "builder.Workflow", models.CASCADE, null=True, blank=True, related_name="alert_rules"
    )
    name = models.CharField(max_length=100)
    events = models.JSONField(default=list)  # AlertEvent values
    long_run_s = models.PositiveIntegerField(null=True, blank=True)
    email_to = models.TextField(blank=True)  # addresses, one per line or comma-separated
    webhook_url = models.CharField(max_length=500, blank=True)
    encrypted_webhook_secret = models.TextField(blank=True)
    # One alert per fingerprint per window; the repeats are counted into it.
    window_s = models.PositiveIntegerField(default=3600)
    enabled = models.BooleanField(default=True)
    # Where the scan of run events stopped; a new rule starts at the newest event.
    event_cursor = models.BigIntegerField(default=0)
    long_checked_at = models.DateTimeField(null=True, blank=True)
    # {schedule id: [missed count, last error]} as last seen, to alert on what is new.
    schedule_marks = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="alert_rule_name_unique")
        ]

    def __str__(self):
        return self.name

    @property
    def webhook_secret(self):
        if not self.encrypted_webhook_secret:
            return ""
        return vault.decrypt(self.encrypted_webhook_secret, f"alert rule {self.name}")

    @webhook_secret.setter
    def webhook_secret(self, text):
        self.encrypted_webhook_secret = vault.encrypt(text) if text else ""

    @property
    def webhook_origin(self):
        """Where the webhook goes, without its path: chat webhooks carry their credential
        in the path, and viewers see the rules."""
        return _origin(self.webhook_url)

    @property
    def recipients(self):
        return [part.strip() for part in self.email_to.replace(",", "\n").split() if part.strip()]

    def event_labels(self):
        labels = dict(AlertEvent.choices)
        return [labels.get(event, event) for event in self.events]


class Alert(models.Model):
    """One alert sent for a fingerprint; repeats within the rule's window only count."""

    rule = models.ForeignKey(AlertRule, models.CASCADE, related_name="alerts")
    event = models.CharField(max_length=20, choices=AlertEvent.choices)
    fingerprint = models.CharField(max_length=300)
    title = models.CharField(max_length=300)
    text = models.TextField()
    data = models.JSONField(default=dict)  # masked: no secret value ever
    run = models.ForeignKey("runner.Run", models.SET_NULL, null=True, blank=True, related_name="+")
    count = models.PositiveIntegerField(default=1)  # this one and the repeats folded into it
    folded_before = models.PositiveIntegerField(default=0)  # repeats folded into the last one
    test = models.BooleanField(default=False)
    opened_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        indexes = [
            # Folding: the latest alert of a fingerprint.
            models.Index(fields=["rule", "fingerprint", "-opened_at"], name="alert_fingerprint")
        ]

    def __str__(self):
        return self.title


class AlertDelivery(models.Model):
    """One channel's copy of an alert, tried until sent or out of tries."""

    class Channel(models.TextChoices):
        EMAIL = "email"
        WEBHOOK = "webhook"

    class Status(models.TextChoices):
        PENDING = "pending"  # waiting for its (next) try
        SENT = "sent"
        FAILED = "failed"  # out of tries

    alert = models.ForeignKey(Alert, models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    target = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    tries = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The sweeper's scan: deliveries due for a try.
            models.Index(
                fields=["next_try_at"],
                name="alert_delivery_due",
                condition=models.Q(status="pending"),
            ),
        ]
        ordering = ["-id"]

    def __str__(self):
        return f"{self.channel} to {self.shown_target} ({self.status})"

    @property
    def shown_target(self):
        return _origin(self.target) if self.channel == self.Channel.WEBHOOK else self.target


def _origin(url):
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else ""
