"""Webhook signature checks: pure functions, no database."""

import hashlib
import hmac

import pytest

from builder.signatures import (
    BadSignature,
    StaleSignature,
    sign_hmac,
    sign_timestamped,
    verify_hmac,
    verify_timestamped,
)

SECRET = "whsec_0123456789abcdef"
BODY = b'{"event": "signup", "email": "ada@example.com"}'
NOW = 1_800_000_000


def test_a_timestamped_signature_is_the_hmac_of_timestamp_dot_body():
    header = sign_timestamped(SECRET, BODY, NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    verify_timestamped(SECRET, BODY, header, now=NOW + 10)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        f"t={NOW}",
        "v1=abc",
        f"t=abc,v1={'0' * 64}",
        f"t={NOW},v1={'0' * 64}",
        f"t={NOW},v1=é",
    ],
)
def test_malformed_or_wrong_timestamped_signatures_are_refused(header):
    with pytest.raises(BadSignature) as refused:
        verify_timestamped(SECRET, BODY, header, now=NOW)
    assert not isinstance(refused.value, StaleSignature)


def test_another_body_or_secret_does_not_match():
    header = sign_timestamped(SECRET, BODY, NOW)
    with pytest.raises(BadSignature):
        verify_timestamped(SECRET, BODY + b" ", header, now=NOW)
    with pytest.raises(BadSignature):
        verify_timestamped("another-secret-entirely", BODY, header, now=NOW)


def test_an_old_or_future_signature_is_stale():
    with pytest.raises(StaleSignature):
        verify_timestamped(SECRET, BODY, sign_timestamped(SECRET, BODY, NOW - 301), now=NOW)
    with pytest.raises(StaleSignature):
        verify_timestamped(SECRET, BODY, sign_timestamped(SECRET, BODY, NOW + 301), now=NOW)
    verify_timestamped(SECRET, BODY, sign_timestamped(SECRET, BODY, NOW - 299), now=NOW)


def test_one_of_several_v1_values_may_match():
    good = sign_timestamped(SECRET, BODY, NOW).split(",")[1]
    verify_timestamped(SECRET, BODY, f"t={NOW},v1={'0' * 64},{good}", now=NOW)


def test_github_style_hmac():
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign_hmac(SECRET, BODY, "sha256", "sha256=") == f"sha256={digest}"
    verify_hmac(SECRET, BODY, f"sha256={digest}", "sha256", "sha256=")
    verify_hmac(SECRET, BODY, f"sha256={digest.upper()}", "sha256", "sha256=")
    sha1 = hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    verify_hmac(SECRET, BODY, f"sha1={sha1}", "sha1", "sha1=")
    flipped = digest[:-1] + ("1" if digest[-1] == "0" else "0")
    for header in ("", digest, f"sha256={flipped}", "sha256=ü", f"sha1={digest}"):
        with pytest.raises(BadSignature):
            verify_hmac(SECRET, BODY, header, "sha256", "sha256=")
