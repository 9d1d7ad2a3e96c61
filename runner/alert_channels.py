"""Delivering alerts: e-mail through the configured mailer, and a signed JSON webhook
through the outbound-request policy (core/outbound.py).

The sweeper calls `deliver_due` each pass, after `alerts.scan`; nothing here runs inside
an engine transaction. A delivery is claimed by compare-and-set on its try count (two
sweepers never send it twice at once), tried, and then marked sent, or given another try
after a backoff (RETRY_BASE_S, doubling, at most RETRY_MAX_S), or failed after MAX_TRIES.

The webhook body is `{"text": ..., "alert": {...}}`: `text` is what Slack (and its
look-alikes) show; `alert` is for programs. It is signed like Brickwork's own webhook
triggers: `Brickwork-Signature: t=<unix>,v1=<HMAC-SHA256 of "<t>." + body>` with the
rule's secret (builder/signatures.py), when the rule has one.
"""

import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from builder.signatures import sign_timestamped
from core.errors import ActionError, OutboundRefused
from core.outbound import check_url, opener
from runner.alert_models import AlertDelivery

log = logging.getLogger(__name__)

MAX_TRIES = 5
RETRY_BASE_S = 2
RETRY_MAX_S = 600
TIMEOUT_S = 5
PER_PASS = 10  # deliveries tried per sweeper pass: a slow receiver delays the rest only
CLAIM_S = 60  # how long a claimed try is hidden from other sweepers


class DeliveryFailed(Exception):
    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def deliver_due(now=None):
    """Try the deliveries that are due; the number sent."""
    now = now or timezone.now()
    due = AlertDelivery.objects.filter(status=AlertDelivery.Status.PENDING, next_try_at__lte=now)
    sent = 0
    for delivery in due.select_related("alert__rule").order_by("next_try_at")[:PER_PASS]:
        sent += deliver(delivery)
    return sent


def deliver(delivery):
    """Claim, try and record one delivery; 1 when it was sent."""
    claimed = AlertDelivery.objects.filter(
        id=delivery.id, status=AlertDelivery.Status.PENDING, tries=delivery.tries
    ).update(tries=delivery.tries + 1, next_try_at=timezone.now() + timedelta(seconds=CLAIM_S))
    if not claimed:
        return 0
    tries = delivery.tries + 1
    try:
        code = send(delivery)
    except Exception as error:  # any failure is the receiver's, recorded and retried
        status = getattr(error, "status", None)
        message = str(error)[:500] or type(error).__name__
        if tries >= MAX_TRIES:
            changes = {"status": AlertDelivery.Status.FAILED}
        else:
            delay = min(RETRY_BASE_S * 2 ** (tries - 1), RETRY_MAX_S)
            changes = {"next_try_at": timezone.now() + timedelta(seconds=delay)}
        AlertDelivery.objects.filter(id=delivery.id).update(
            last_error=message, response_code=status, **changes
        )
        log.warning("alert delivery %s failed (try %d): %s", delivery.id, tries, message)
        return 0
    AlertDelivery.objects.filter(id=delivery.id).update(
        status=AlertDelivery.Status.SENT, sent_at=timezone.now(), response_code=code, last_error=""
    )
    return 1


def send(delivery):
    """Send one delivery now; the HTTP status (webhook) or None (e-mail); raises on failure."""
    alert = delivery.alert
    if delivery.channel == AlertDelivery.Channel.EMAIL:
        subject = "[Brickwork] " + alert.title
        message = EmailMessage(subject, alert.text, settings.DEFAULT_FROM_EMAIL, [delivery.target])
        message.send()
        return None
    return _post(delivery.target, body(alert), alert.rule.webhook_secret)


def body(alert):
    """The webhook's JSON body, as bytes (the signature covers these exact bytes)."""
    payload = {
        "text": alert.text,
        "alert": {
            "id": alert.id,
            "title": alert.title,
            "count": alert.count,
            "folded_before": alert.folded_before,
            "test": alert.test,
            "opened_at": alert.opened_at.isoformat(),
            **alert.data,
        },
    }
    return json.dumps(payload, ensure_ascii=False).encode()


def _post(url, data, secret):
    check_url(url)
    headers = {"Content-Type": "application/json", "User-Agent": "Brickwork-Alerts"}
    if secret:
        headers["Brickwork-Signature"] = sign_timestamped(secret, data, time.time())
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with opener().open(request, timeout=TIMEOUT_S) as response:
            return response.status
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"the receiver answered {error.code}", status=error.code)
    except (OutboundRefused, ActionError) as error:
        raise DeliveryFailed(str(error))
    except OSError as error:
        raise DeliveryFailed(f"could not reach the receiver: {error}")
