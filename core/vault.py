"""Secret values at rest: Fernet tokens under a key derived from SECRET_KEY.

A database dump alone reveals no secret. Keys in SECRET_KEY_FALLBACKS still decrypt, so
SECRET_KEY can be rotated the Django way (the new key first, the old one as a fallback)
and re-saved values move to the new key; a value saved under a key that is gone entirely
cannot be read any more and has to be set again.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

from core.errors import SecretUnreadable

# Keeps this key apart from every other use Django makes of SECRET_KEY (sessions, signing).
PURPOSE = "brickwork.core.vault.secrets"


def encrypt(text):
    return _fernet(*_keys()).encrypt(text.encode()).decode()


def decrypt(token, name="?"):
    """The plain text; SecretUnreadable when no configured key made this token."""
    try:
        return _fernet(*_keys()).decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeError):
        raise SecretUnreadable(
            f"the secret {name} cannot be decrypted with this server's SECRET_KEY "
            "(it was saved under another one): set its value again"
        )


def _keys():
    return (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)


@lru_cache(maxsize=4)
def _fernet(*keys):
    """Derived once per set of keys: the first encrypts, any of them decrypts."""
    return MultiFernet([Fernet(_derive(key)) for key in keys])


def _derive(key):
    digest = salted_hmac(PURPOSE, "fernet", secret=key, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest)
