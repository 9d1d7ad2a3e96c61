"""`email.send`: one message through Django's mailer (configured by EMAIL_URL)."""

import hashlib
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers

from core.actions.registry import action
from core.errors import ActionError, NonRetryable

INPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "to": {
            "oneOf": [
                {"type": "string", "format": "email", "minLength": 3},
                {"type": "array", "items": {"type": "string", "minLength": 3}, "minItems": 1},
            ]
        },
        "subject": {"type": "string", "maxLength": 998},
        "body": {"type": "string"},
        "html": {"type": "string"},
        "from": {"type": "string"},
    },
    "required": ["to", "subject", "body"],
    "additionalProperties": False,
}


@action(
    "email.send",
    input_schema=INPUT_SCHEMA,
    retry={"max_attempts": 5},
    timeout_s=30,
    ui={"to": "line", "subject": "line", "body": "textarea", "html": "textarea"},
)
def send_email(ctx, input):
    """Send an e-mail; its Message-ID comes from the idempotency key, so receivers can dedupe."""
    recipients = input["to"] if isinstance(input["to"], list) else [input["to"]]
    digest = hashlib.sha256(ctx.idempotency_key.encode()).hexdigest()[:32]
    message_id = f"<{digest}@brickwork>"
    message = EmailMultiAlternatives(
        subject=input["subject"],
        body=input["body"],
        from_email=input.get("from") or settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={"Message-ID": message_id},
    )
    if input.get("html"):
        message.attach_alternative(input["html"], "text/html")
    try:
        mailers.default.send_messages([message])
    except smtplib.SMTPRecipientsRefused as error:
        raise NonRetryable(f"recipients refused: {', '.join(error.recipients)}")
    except (TimeoutError, smtplib.SMTPException, OSError) as error:
        raise ActionError(f"SMTP delivery failed: {error.__class__.__name__}: {error}")
    return {"message_id": message_id, "to": recipients}
