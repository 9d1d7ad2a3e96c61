"""For-each steps in the definition: the validator's field-pointed messages, a round trip
through API import -> builder panel -> API export, the panel's fields and the graph's
stacked node with its "× N" badge."""

import pytest
from django.test import Client

from builder.definition import validate
from core.errors import InvalidDefinition
from core.models import ApiKey
from tests.api import Api
from tests.builder.test_decisions_round_trip import _save_as_shown

pytestmark = pytest.mark.django_db

MAPPING = {
    "name": "Orders one by one",
    "steps": [
        {"key": "fetch", "action": "debug.echo@1", "input": {"orders": "{{ input.orders }}"}},
        {
            "key": "charge",
            "action": "debug.echo@1",
            "input": {"order": "{{ item.id }}", "position": "{{ item_index }}"},
            "for_each": "{{ steps.fetch.output.orders }}",
            "max_concurrency": 5,
            "on_item_failure": "collect",
            "compensate": {
                "action": "debug.echo@1",
                "input": {"refund": "{{ item.id }}", "charge": "{{ item_output.order }}"},
            },
        },
        {"key": "done", "action": "debug.echo@1", "input": {"all": "{{ steps.charge.output }}"}},
    ],
}


def _errors(steps, workspace):
    with pytest.raises(InvalidDefinition) as raised:
        validate({"name": "x", "steps": steps}, workspace)
    return raised.value.fields


def test_a_for_each_step_validates_as_written(workspace):
    steps = validate(MAPPING, workspace)["steps"]
    assert [{k: v for k, v in s.items() if k != "after"} for s in steps] == MAPPING["steps"]


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        ({"for_each": "steps.fetch.output.orders"}, "for_each", "must be one reference to a list"),
        ({"for_each": "{{ a }} and {{ b }}"}, "for_each", "must be one reference to a list"),
        ({"for_each": ["x"]}, "for_each", "must be one reference to a list"),
        ({"for_each": "{{ run.id }}"}, "for_each", "must refer to the input or an earlier step"),
        ({"for_each": "{{ steps.later.output }}"}, "for_each", "unknown step 'later'"),
        (
            {"for_each": "{{ input.x }}", "max_concurrency": 0},
            "max_concurrency",
            "between 1 and 1000",
        ),
        (
            {"for_each": "{{ input.x }}", "max_concurrency": 1001},
            "max_concurrency",
            "between 1 and 1000",
        ),
        (
            {"for_each": "{{ input.x }}", "max_concurrency": "ten"},
            "max_concurrency",
            "whole number",
        ),
        ({"for_each": "{{ input.x }}", "max_concurrency": True}, "max_concurrency", "whole number"),
        (
            {"for_each": "{{ input.x }}", "on_item_failure": "ignore"},
            "on_item_failure",
            "fail_fast, collect",
        ),
        ({"max_concurrency": 3}, "max_concurrency", "only for a for-each step"),
        ({"input": {"x": "{{ item }}"}}, "input.x", "unknown reference root 'item'"),
    ],
)
def test_bad_for_each_fields_are_pointed_at(workspace, fields, path, message):
    step = {"key": "each", "action": "debug.echo", **fields}
    errors = _errors([{"key": "fetch", "action": "debug.echo"}, step], workspace)
    assert any(message in text for text in errors[f"steps[1].{path}"]), errors


def test_item_output_is_only_for_the_compensation(workspace):
    step = {
        "key": "each",
        "action": "debug.echo",
        "for_each": "{{ input.x }}",
        "input": {"x": "{{ item_output }}"},
    }
    errors = _errors([step], workspace)
    assert "unknown reference root 'item_output'" in errors["steps[0].input.x"][0]


def test_import_the_panel_and_export_keep_a_for_each_step(workspace, alice):
    api = Api(Client(), ApiKey.issue(workspace, "round trip")[1])
    assert api.put("/workflows/orders", MAPPING).status_code == 201
    browser = Client(raise_request_exception=True)
    browser.force_login(alice)
    for index in range(len(MAPPING["steps"])):
        assert _save_as_shown(browser, index).status_code == 302
    exported = api.get("/workflows/orders").json()["definition"]
    assert exported == MAPPING
    page = browser.get("/w/acme/workflows/orders/?step=1").content.decode()
    assert 'value="{{ steps.fetch.output.orders }}"' in page
    assert 'id="f-max-concurrency"' in page and 'value="5"' in page
    assert '<option value="collect" selected>' in page
    # The graph draws it as a stack of cards with its badge.
    assert "gnode type-action for-each" in page
    assert "× 5 at once" in page


def test_the_panel_edits_the_for_each_fields_and_shows_their_errors(workspace, alice):
    api = Api(Client(), ApiKey.issue(workspace, "round trip")[1])
    assert api.put("/workflows/orders", MAPPING).status_code == 201
    browser = Client(raise_request_exception=True)
    browser.force_login(alice)
    _save_as_shown(browser, 1, {"max_concurrency": ["2000"], "on_item_failure": ["fail_fast"]})
    page = browser.get("/w/acme/workflows/orders/?step=1").content.decode()
    assert 'value="2000"' in page
    assert "must be between 1 and 1000" in page
    _save_as_shown(browser, 1, {"max_concurrency": ["20"]})
    step = api.get("/workflows/orders").json()["definition"]["steps"][1]
    assert (step["max_concurrency"], step["on_item_failure"]) == (20, "fail_fast")
    _save_as_shown(browser, 1, {"for_each": [""], "max_concurrency": [""]})
    step = api.get("/workflows/orders").json()["definition"]["steps"][1]
    assert "for_each" not in step and "max_concurrency" not in step
