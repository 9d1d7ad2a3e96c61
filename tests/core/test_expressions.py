"""Conditions: parsed and evaluated by core/expressions.py, never by Python's eval."""

import time

import pytest

from core.expressions import MAX_DEPTH, MAX_LENGTH, ExpressionError, parse

CONTEXT = {
    "input": {"country": "FR", "total": 120, "tags": ["a", "b"], "flag": True, "empty": ""},
    "steps": {
        "check": {
            "status": "succeeded",
            "output": {"total": 1500, "items": [{"sku": "x"}, {"sku": "y"}], "none": None},
        },
        "pay": {
            "status": "failed",
            "output": None,
            "error": {"code": "card_declined", "message": "no", "type": "ActionError"},
        },
    },
    "run": {"id": 7, "scheduled_for": None},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("1 == 1", True),
        ("1 == 1.0", True),
        ("1 == true", False),
        ("0 == false", False),
        ('"a" == "a"', True),
        ("'single' == \"single\"", True),
        ('"a\\"b" == \'a"b\'', True),
        ("steps.check.output.total > 1000", True),
        ('steps.check.output.total > 1000 and input.country in ["FR", "DE"]', True),
        ('input.country != "FR"', False),
        ("input.total >= 120 and input.total <= 120", True),
        ("input.total < 120", False),
        ('"abc" < "abd"', True),
        ('input.total > "100"', False),  # a number and a string do not order
        ("input.missing > 1", False),
        ("input.missing < 1", False),
        ("input.missing == null", True),
        ("input.missing", None),
        ("steps.nope.output.x == null", True),
        ("exists input.country", True),
        ("exists input.missing", False),
        ("exists steps.check.output.none", False),
        ("not exists input.missing", True),
        ('"b" in input.tags', True),
        ('"c" not in input.tags', True),
        ('"R" in input.country', True),
        ('"total" in steps.check.output', True),
        ("1 in null", False),
        ("1 not in null", True),
        ('steps.check.output.items.1.sku == "y"', True),
        ("steps.check.output.items.5.sku == null", True),
        ('steps.pay.status == "failed"', True),
        ('steps.pay.error.code == "card_declined"', True),
        ("run.id == 7", True),
        ("not true", False),
        ("not not input.flag", True),
        ("not input.empty", True),
        ("true or false and false", True),  # and binds tighter than or
        ("(true or false) and false", False),
        ("not 1 == 2", True),  # not binds looser than ==
        ("[1, 2] == [1, 2]", True),
        ("[1, [true]] == [1, [1]]", False),
        ("[] == []", True),
        ("-3 < -2.5", True),
        ("1e3 == 1000", True),
        ('input.tags == ["a", "b"]', True),
        ('[input.country, "DE"] == ["FR", "DE"]', True),
        ("1 == 2 or 2 == 2", True),
        ('input.total > 100 and (input.country == "DE" or input.flag)', True),
    ],
)
def test_evaluates(text, expected):
    assert parse(text).evaluate(CONTEXT) == expected


def test_and_or_give_booleans_by_truthiness():
    assert parse("input.tags and input.total").evaluate(CONTEXT) is True
    assert parse("input.empty or input.missing").evaluate(CONTEXT) is False
    assert parse("input.empty").holds(CONTEXT) is False
    assert parse("steps.check.output").holds(CONTEXT) is True


def test_references_are_listed_with_positions():
    expression = parse("steps.check.output.total > 1 and exists input.x or run.id in [1, input.y]")
    assert expression.references == (
        ("steps.check.output.total", 0),
        ("input.x", 40),
        ("run.id", 51),
        ("input.y", 65),
    )


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("", "the condition ends too early", 1),
        ("input.x ==", "the condition ends too early", 11),
        ("input.x = 1", "use == to compare", 9),
        ("input.x == 1)", "unexpected ')'", 13),
        ("(input.x == 1", "expected ')', found the end", 14),
        ("input.x == 'abc", "a string is not closed", 12),
        ('input.x == "a\\qb"', "unknown escape", 14),
        ("input.", "expected a field name after '.', found the end", 7),
        ("secrets.TOKEN == 1", "unknown reference root 'secrets'", 1),
        ("__import__('os')", "unknown reference root '__import__'", 1),
        ("foo", "unknown reference root 'foo'", 1),
        ("1 < 2 < 3", "comparisons do not chain", 7),
        ("input.x == 1 input.y", "unexpected 'input'", 14),
        ("exists 1", "exists needs a reference", 8),
        ("exists", "exists needs a reference", 7),
        ("input.x & 1", "unexpected character '&'", 9),
        ("[1, 2", "expected ']', found the end", 6),
        ("1.2.3 == 1", "is not a number", 1),
        ("and", "unexpected 'and'", 1),
        ("input.x in", "the condition ends too early", 11),
        ("input.x == 1e999", "is not a finite number", 12),
        ("input.é == 1", "unexpected character 'é'", 7),
        (42, "a condition must be a string", 1),
    ],
)
def test_errors_name_the_column(text, message, column):
    with pytest.raises(ExpressionError) as raised:
        parse(text)
    assert message in raised.value.message
    assert raised.value.position + 1 == column
    assert f"(at column {column})" in str(raised.value)


# Hostile input: every one is refused (or answered) quickly, never a RecursionError.


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10_000 + "1" + ")" * 10_000,
        "not " * 5_000 + "true",
        "[" * 5_000 + "]" * 5_000,
        "x" * (MAX_LENGTH + 1),
        " or ".join(["input.a == 1"] * 300),
        "[" + ", ".join(["1"] * 300) + "]",
        "9" * 100,
        '"' + "\\" * 1999,
        "input" + ".a" * 999,
        "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1),
    ],
)
def test_hostile_input_is_refused_quickly(text):
    started = time.perf_counter()
    with pytest.raises(ExpressionError):
        parse(text)
    assert time.perf_counter() - started < 0.5


def test_the_depth_limit_leaves_room_for_real_conditions():
    nested = "(" * (MAX_DEPTH - 2) + "input.x == 1" + ")" * (MAX_DEPTH - 2)
    assert parse(nested).evaluate({"input": {"x": 1}}) is True


def test_deep_values_in_the_context_do_not_crash():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    context = {"input": {"a": deep, "b": deep}}
    assert parse("input.a == input.b").evaluate(context) in (True, None)
    assert parse("exists input.a").evaluate(context) is True


def test_nothing_is_executed():
    # Attribute access and calls are not in the language: a dunder is just a missing key.
    assert parse("input.__class__ == null").evaluate({"input": {}}) is True
    with pytest.raises(ExpressionError):
        parse("input.x()")
