"""The mailer used when no SMTP server is configured: it says what would be sent, not what
it says. A message's subject and body may carry a secret a step filled in, and the
terminal (or a log file collecting it) is no place for them; EMAIL_CONSOLE_BODIES=true
prints whole messages, for local development."""

from django.conf import settings
from django.core.mail.backends import console


class EmailBackend(console.EmailBackend):
    def write_message(self, message):
        if settings.EMAIL_CONSOLE_BODIES:
            return super().write_message(message)
        recipients = ", ".join(message.recipients())
        message_id = message.extra_headers.get("Message-ID", "")
        self.stream.write(
            f"e-mail not sent (no EMAIL_URL): from {message.from_email} to {recipients} "
            f"{message_id} (subject and body hidden; EMAIL_CONSOLE_BODIES=true shows them)\n"
        )
