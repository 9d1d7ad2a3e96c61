"""Decisions survive API import -> builder panel -> API export, unchanged, and the panel
shows a condition's error at its field."""

import pytest
from django.test import Client

from builder.definition import validate
from core.models import ApiKey
from tests.api import Api
from tests.builder.test_builder_views import HTMX, errors_in
from tests.builder.test_round_trip import FormReader

pytestmark = pytest.mark.django_db

DECIDING = {
    "name": "Orders that decide",
    "steps": [
        {"key": "check", "action": "debug.echo@1", "input": {"total": "{{ input.total }}"}},
        {
            "key": "big",
            "action": "debug.echo@1",
            "input": {},
            "when": 'steps.check.output.total > 100 and input.country in ["FR", "DE"]',
        },
        {
            "key": "small",
            "action": "debug.echo@1",
            "input": {},
            "after": ["check"],
            "when": "not (steps.check.output.total > 100)",
        },
        {
            "key": "route",
            "type": "switch",
            "after": ["big", "small"],
            "after_any": True,
            "cases": [
                {"name": "vip", "when": "input.vip == true", "next": ["pay"]},
                {"name": "abroad", "when": 'input.country != "FR"', "next": ["customs"]},
            ],
            "default": ["pay"],
        },
        {
            "key": "pay",
            "action": "debug.fail@1",
            "input": {"code": "card_declined"},
            "on_error": [
                {"match": ["timeout", "card_declined"], "next": ["handler"]},
                {"match": ["*"], "next": ["other"]},
            ],
        },
        {"key": "customs", "action": "debug.echo@1", "input": {}, "after": ["route"]},
        {
            "key": "handler",
            "action": "debug.echo@1",
            "input": {"why": "{{ steps.pay.error.message }}"},
            "after": ["pay"],
        },
        {"key": "other", "action": "debug.echo@1", "input": {}, "after": ["pay"]},
        {
            "key": "done",
            "action": "debug.echo@1",
            "input": {},
            "after": ["customs", "handler", "other"],
            "after_any": True,
        },
    ],
}


def _save_as_shown(browser, index, change=None, **headers):
    page = browser.get(f"/w/acme/workflows/orders/?step={index}")
    assert page.status_code == 200
    form = FormReader("step-form")
    form.feed(page.content.decode())
    form.data.pop("selected", None)
    form.data.update(change or {})
    return browser.post(f"/w/acme/workflows/orders/steps/{index}/save/", form.data, **headers)


def test_saving_every_step_unchanged_keeps_every_decision(workspace, alice):
    api = Api(Client(), ApiKey.issue(workspace, "round trip")[1])
    assert api.put("/workflows/orders", DECIDING).status_code == 201
    browser = Client(raise_request_exception=True)
    browser.force_login(alice)
    for index in range(len(DECIDING["steps"])):
        assert _save_as_shown(browser, index).status_code == 302
    exported = api.get("/workflows/orders").json()["definition"]
    for got, want in zip(exported["steps"], DECIDING["steps"], strict=True):
        assert got == want
    assert exported == DECIDING
    assert validate(exported, workspace) == validate(DECIDING, workspace)


def test_the_panel_shows_a_condition_error_and_keeps_the_text(workspace, alice):
    api = Api(Client(), ApiKey.issue(workspace, "round trip")[1])
    assert api.put("/workflows/orders", DECIDING).status_code == 201
    browser = Client(raise_request_exception=True)
    browser.force_login(alice)
    _save_as_shown(browser, 1, {"when": ["steps.check.output.total = 1"]})
    page = browser.get("/w/acme/workflows/orders/?step=1").content.decode()
    assert 'value="steps.check.output.total = 1"' in page
    assert "use == to compare (at column 26)" in page
    # References are checked once the definition parses: mend the condition first.
    _save_as_shown(browser, 1, {"when": ["steps.check.output.total == 1"]})
    _save_as_shown(browser, 3, {"case-0-when": ["steps.pay.output"]})
    page = browser.get("/w/acme/workflows/orders/?step=3")
    # A case's condition error shows in its row, next to the condition
    assert errors_in(page)["err-case-0-when"] == [
        "steps.pay.output: step &#x27;pay&#x27; does not run before this one (add it to after) (at column 1)"
    ]
    # and in the JSON view, under the cases, with the path that says which case
    json_view = {"cases_view": ["json"], "rerender": ["1"]}
    json_view["cases"] = ['[{"name": "x", "when": "steps.pay.output", "next": []}]']
    response = _save_as_shown(browser, 3, json_view, **HTMX)
    assert 'id="f-cases"' in response.content.decode()
    assert errors_in(response)["err-cases"] == [
        "cases[0].when: steps.pay.output: step &#x27;pay&#x27; does not run before this one "
        "(add it to after) (at column 1)"
    ]


def test_a_step_becomes_a_switch_in_the_panel(workspace, alice):
    api = Api(Client(), ApiKey.issue(workspace, "round trip")[1])
    assert api.put("/workflows/orders", DECIDING).status_code == 201
    browser = Client(raise_request_exception=True)
    browser.force_login(alice)
    _save_as_shown(browser, 5, {"type": ["switch"], "cases": ['[{"name": "a", "when": "true"}]']})
    step = api.get("/workflows/orders").json()["definition"]["steps"][5]
    assert step == {
        "key": "customs",
        "type": "switch",
        "after": ["route"],
        "cases": [{"name": "a", "when": "true"}],
    }
    page = browser.get("/w/acme/workflows/orders/?step=5").content.decode()
    assert 'id="f-action"' not in page  # the switch's cases, as rows
    assert 'name="case-0-when" value="true"' in page and 'id="case-1-when"' in page
