"""core.masking.mask: secrets go from the strings of a JSON value, in every usual spelling;
keys and everything that is not a string stay as they are."""

import html
import json
from urllib.parse import quote, quote_plus

import pytest

from core.masking import MASK, mask

TRICKY = "<b>&\"'\\"


def test_strings_are_masked_and_keys_and_other_values_are_not():
    value = {"status": "failed", "span": ["a span b", 1, True, None], "n": {"failed": 2.5}}
    masked = mask(value, ["failed", "span"])
    assert masked == {"status": MASK, "span": [f"a {MASK} b", 1, True, None], "n": {"failed": 2.5}}
    assert value["status"] == "failed"  # a copy: the original is left alone


@pytest.mark.parametrize(
    "spell",
    [
        lambda v: v,
        lambda v: repr(v),
        lambda v: repr(f'"{v}'),  # inside a string with both quotes: ' is escaped too
        lambda v: json.dumps(v),
        lambda v: json.dumps({"token": v}),
        lambda v: repr(json.dumps({"token": v})),  # a JSON body inside an exception's repr
        lambda v: quote(v, safe=""),
        lambda v: quote_plus(v),
        lambda v: html.escape(v),
        lambda v: html.escape(v, quote=False),
    ],
)
@pytest.mark.parametrize("secret", [TRICKY, "sk_live_é_42", "span"])
def test_every_spelling_of_a_secret_is_masked(spell, secret):
    text = f"error near {spell(secret)} here"
    assert mask(text, [secret]).startswith("error near ")
    assert secret not in mask(text, [secret]) and spell(secret) not in mask(text, [secret])


def test_a_secret_inside_another_is_masked_in_one_pass():
    assert mask("abcdefgh and defg", ["abcdefgh", "defg"]) == f"{MASK} and {MASK}"


def test_short_or_no_secrets_change_nothing():
    assert mask({"a": "abc"}, ["abc", ""]) == {"a": "abc"}
    assert mask("text", []) == "text" and mask("text", None) == "text"
