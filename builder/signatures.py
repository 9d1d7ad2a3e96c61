"""Webhook signatures: pure HMAC functions, compared in constant time.

Two schemes cover most senders without code:
- timestamped (Brickwork's own, and Stripe's): `t=<unix>,v1=<hex>`, the HMAC-SHA256 of
  `"<t>." + raw body`; a signature older (or newer) than the tolerance is a replay.
- plain HMAC of the raw body in one header, after a prefix (GitHub:
  `X-Hub-Signature-256: sha256=<hex>`).
"""

import hashlib
import hmac

TOLERANCE_S = 300
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


class BadSignature(Exception):
    """Missing, malformed or wrong."""


class StaleSignature(BadSignature):
    """Right, but signed outside the tolerance: a replay, or a clock far off."""


def sign_timestamped(secret, body, timestamp):
    """The header value a sender puts in `Brickwork-Signature`."""
    return f"t={int(timestamp)},v1={_digest(secret, _signed_payload(timestamp, body))}"


def verify_timestamped(secret, body, header, now, tolerance_s=TOLERANCE_S):
    """Raise BadSignature or StaleSignature unless `header` signs `body` recently enough;
    return the signature, which names this delivery (a replay has the same one).

    Several `v1=` values are accepted (a sender rolling its secret signs with both).
    """
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise BadSignature("expected t=<unix time>,v1=<hex signature>")
    expected = _digest(secret, _signed_payload(timestamp, body))
    if not any(_same(expected, candidate) for candidate in candidates):
        raise BadSignature("the signature does not match")
    if abs(now - timestamp) > tolerance_s:
        raise StaleSignature(f"signed more than {tolerance_s} s from now")
    return expected


def sign_hmac(secret, body, algorithm="sha256", prefix=""):
    return prefix + _digest(secret, body, algorithm)


def verify_hmac(secret, body, header, algorithm="sha256", prefix=""):
    """Raise BadSignature unless `header` is `prefix` + the hex HMAC of `body`."""
    if not header or not header.startswith(prefix):
        raise BadSignature(f"expected {prefix}<hex signature>" if prefix else "no signature")
    expected = _digest(secret, body, algorithm)
    if not _same(expected, header[len(prefix) :].strip().lower()):
        raise BadSignature("the signature does not match")


def _same(expected, given):
    """Constant-time, and safe for any text a header may hold."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))


def _signed_payload(timestamp, body):
    return f"{int(timestamp)}.".encode() + body


def _digest(secret, payload, algorithm="sha256"):
    return hmac.new(secret.encode(), payload, ALGORITHMS[algorithm]).hexdigest()
