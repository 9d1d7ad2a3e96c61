"""Secret values at rest (workspace secrets, webhook signing secrets): Fernet tokens.

A database dump alone reveals no secret. The keys come from SECRETS_KEYS, kept apart from
Django's SECRET_KEY so that a leak of one (or its rotation) leaves the other alone: the
first key encrypts, every key decrypts, and `manage.py rotatesecrets` re-encrypts every
stored value under the first one. Installs that predate SECRETS_KEYS encrypted under a key
derived from SECRET_KEY (and SECRET_KEY_FALLBACKS): those keys always decrypt, never
encrypt once SECRETS_KEYS is set, so moving over is "set SECRETS_KEYS, run rotatesecrets".
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
        raise _unreadable(name)


def rotate(token, name="?"):
    """The same value encrypted under the first key (a new token even if it already was)."""
    try:
        return _fernet(*_keys()).rotate(token.encode()).decode()
    except (InvalidToken, UnicodeError):
        raise _unreadable(name)


def _unreadable(name):
    return SecretUnreadable(
        f"the secret {name} cannot be decrypted with this server's SECRETS_KEYS "
        "(it was saved under another key): set its value again"
    )


def _keys():
    legacy = (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    return (*settings.SECRETS_KEYS, *legacy)


@lru_cache(maxsize=4)
def _fernet(*keys):
    """Derived once per set of keys: the first encrypts, any of them decrypts."""
    return MultiFernet([Fernet(_derive(key)) for key in keys])


def _derive(key):
    digest = salted_hmac(PURPOSE, "fernet", secret=key, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest)
