"""Without EMAIL_URL, e-mail is printed, not sent: who it is for, never what it says."""

import io

from django.core.mail import EmailMessage
from django.test import override_settings

from core.mail import EmailBackend
from core.settings import _mailers

BODY_SECRET = "sk_live_mail_body_9e4a"


def printed(message):
    stream = io.StringIO()
    EmailBackend(stream=stream).send_messages([message])
    return stream.getvalue()


def message():
    return EmailMessage(
        subject=f"Your key {BODY_SECRET}",
        body=f"Here it is: {BODY_SECRET}",
        from_email="brickwork@localhost",
        to=["ada@example.com"],
        headers={"Message-ID": "<abc@brickwork>"},
    )


def test_it_is_the_default_without_an_email_url(monkeypatch):
    monkeypatch.delenv("EMAIL_URL", raising=False)
    assert _mailers()["default"]["BACKEND"] == "core.mail.EmailBackend"


def test_only_the_envelope_is_printed():
    text = printed(message())
    assert "ada@example.com" in text and "<abc@brickwork>" in text
    assert BODY_SECRET not in text and "EMAIL_CONSOLE_BODIES=true" in text


@override_settings(EMAIL_CONSOLE_BODIES=True)
def test_the_whole_message_when_asked():
    assert f"Here it is: {BODY_SECRET}" in printed(message())
