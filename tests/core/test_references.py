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
