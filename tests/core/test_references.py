import time

import pytest

from core import references


def test_a_whole_reference_keeps_its_type_and_inner_ones_are_formatted():
    scope = {"input": {"n": 3, "tags": ["a"], "name": "Ada"}, "run": {"id": 9}}
    template = {"n": "{{ input.n }}", "msg": "Hi {{input.name}} #{{ run.id }} {{ input.tags }}"}
    assert references.render(template, scope) == {"n": 3, "msg": 'Hi Ada #9 ["a"]'}


def test_missing_paths_raise():
    with pytest.raises(references.MissingReference):
        references.render("{{ input.nope }}", {"input": {}})


def test_substituted_values_are_never_rendered_again():
    scope = {"input": {"text": "{{ input.secret }}", "secret": "s3"}}
    assert references.render("x {{ input.text }}", scope) == "x {{ input.secret }}"


def test_secret_slots_come_from_the_template_only():
    scope = {"input": {"user": "{{ secrets.B }}"}}
    template = {
        "headers": {"Authorization": "Bearer {{ secrets.A }}"},
        "list": ["{{ secrets.A }}", "{{ input.user }}"],
        "user": "{{ input.user }}",
    }
    rendered = references.render(template, scope, keep=("secrets",))
    slots = references.secret_slots(template, scope)
    assert [path for path, _ in slots] == [["headers", "Authorization"], ["list", 0]]
    filled = references.fill_secrets(rendered, slots, {"A": "aaa", "B": "bbb"})
    assert filled == {
        "headers": {"Authorization": "Bearer aaa"},
        "list": ["aaa", "{{ secrets.B }}"],
        "user": "{{ secrets.B }}",
    }
    assert rendered["headers"]["Authorization"] == "Bearer {{ secrets.A }}"


def test_finding_references_is_linear_on_hostile_text():
    # An unclosed "{{" before a long run of spaces took seconds with the old pattern
    began = time.monotonic()
    assert list(references.find({"a": "{{" + " " * 200_000 + "x", "b": "{{ a " * 50_000})) == []
    assert references.render("{{" + " " * 200_000, {}) == "{{" + " " * 200_000
    assert time.monotonic() - began < 1
    assert list(references.find("{{  input.a  }}")) == [("", "input.a")]
