"""The panel's switch case rows through Django's test client: the rows write the switch's
JSON as the API writes it, show it back in order, move, leave and join, carry their own
field errors, and stay JSON when the rows cannot show it."""

import json

import pytest
from django.http import QueryDict

from builder import switch_cases
from builder.definition import validate
from builder.models import Workflow
from tests.builder.test_builder_views import HTMX, client_of, errors_in

pytestmark = pytest.mark.django_db

CASES = [
    {"name": "vip", "when": "input.vip == true", "next": ["gift"]},
    {"name": "big", "when": "steps.check.output.total > 100", "next": ["review", "gift"]},
]
STEPS = [
    {"key": "check", "action": "debug.echo@1", "input": {}},
    {"key": "route", "type": "switch", "cases": CASES, "default": ["normal"]},
    {"key": "gift", "action": "debug.echo@1", "input": {}, "after": ["route"]},
    {"key": "review", "action": "debug.echo@1", "input": {}, "after": ["route"]},
    {"key": "normal", "action": "debug.echo@1", "input": {}, "after": ["route"]},
]
SAVE = "/w/acme/workflows/shop/steps/1/save/"
ORDER = [step["key"] for step in STEPS]


@pytest.fixture
def workflow(workspace, alice):
    return Workflow.objects.create(
        workspace=workspace, slug="shop", name="Shop", draft={"name": "Shop", "steps": STEPS}
    )


def rows(*cases, default=()):
    """The panel's form data for `cases` (one row each, and the blank new row)."""
    data = {"key": "route", "type": "switch", "after_mode": "default", "cases_view": "form"}
    data |= {"case_count": str(len(cases) + 1), "default_next": list(default)}
    for index, case in enumerate(cases):
        data[f"case-{index}-name"] = case.get("name", "")
        data[f"case-{index}-when"] = case.get("when", "")
        # (ticked boxes come in the order they are drawn: the workflow's step order)
        data[f"case-{index}-next"] = [key for key in ORDER if key in case.get("next", [])]
    return data


def saved_switch(workflow):
    workflow.refresh_from_db()
    return workflow.draft["steps"][1]


def shown_rows(response):
    """(name, when, ticked steps) of each case row the panel drew, in order."""
    page = response.content.decode()
    found = []
    for index in range(switch_cases.MAX_ROWS):
        if f'id="case-{index}"' not in page:
            return found
        row = page[page.index(f'id="case-{index}"') :]
        row = row[: row.index("</fieldset>")]
        name, when = (_value_of(row, f"case-{index}-{field}") for field in ("name", "when"))
        ticked = [
            part.split('value="')[1].split('"')[0]
            for part in row.split("<input")
            if f'name="case-{index}-next"' in part and "checked" in part
        ]
        found.append((name, when, ticked))
    return found


def _value_of(html, name):
    return html.split(f'name="{name}" value="')[1].split('"')[0]


def test_rows_round_trip_to_the_definition_the_api_writes(alice, workflow, workspace):
    client = client_of(alice)
    # The panel shows the stored cases as rows, in order, and a blank row for a new one
    response = client.get("/w/acme/workflows/shop/?step=1")
    assert shown_rows(response) == [
        ("vip", "input.vip == true", ["gift"]),
        ("big", "steps.check.output.total &gt; 100", ["gift", "review"]),  # in step order
        ("", "", []),
    ]
    # Saved from the rows as shown, the switch is unchanged, key for key
    client.post(SAVE, rows(*CASES, default=["normal"]), **HTMX)
    assert saved_switch(workflow) == STEPS[1]
    assert validate(workflow.draft, workspace)["steps"][1]["cases"] == CASES
    # A row typed into the blank one is a third case, last
    third = {"name": "rest", "when": 'input.country != "FR"', "next": ["normal"]}
    response = client.post(SAVE, rows(*CASES, third) | {"rerender": "1"}, **HTMX)
    assert saved_switch(workflow)["cases"] == [*CASES, third]
    assert saved_switch(workflow)["default"] == []  # unticked: none, still written
    assert [row[0] for row in shown_rows(response)] == ["vip", "big", "rest", ""]


def test_move_and_remove_keep_the_order_that_decides(alice, workflow):
    client = client_of(alice)
    data = rows(*CASES, default=["normal"]) | {"rerender": "1", "case_move": "1:up"}
    response = client.post(SAVE, data, **HTMX)
    assert saved_switch(workflow)["cases"] == [CASES[1], CASES[0]]
    assert [row[0] for row in shown_rows(response)] == ["big", "vip", ""]
    # Focus stays on the moved row's button, and a screen reader hears where it went
    page = response.content.decode()
    assert 'data-focus="case-0-up"' in page and "Moved big to position 1." in page
    assert 'id="case-0-up" aria-label="Move case 1 (big) up"\n' in page
    assert 'aria-disabled="true"' in page.split('id="case-0-up"')[1].split(">")[0]
    # The last case cannot go down, nor past the blank row
    data = rows(CASES[1], CASES[0], default=["normal"]) | {"rerender": "1", "case_move": "1:down"}
    client.post(SAVE, data, **HTMX)
    assert saved_switch(workflow)["cases"] == [CASES[1], CASES[0]]
    # Removed: the row leaves, focus goes to the one that took its place
    data = rows(CASES[1], CASES[0], default=["normal"]) | {"rerender": "1", "case_remove": "0"}
    response = client.post(SAVE, data, **HTMX)
    assert saved_switch(workflow)["cases"] == [CASES[0]]
    assert 'data-focus="case-0-name"' in response.content.decode()
    # Added: focus goes to the new row's name
    data = rows(CASES[0], default=["normal"]) | {"rerender": "1", "case_add": "1"}
    assert 'data-focus="case-1-name"' in client.post(SAVE, data, **HTMX).content.decode()


def test_each_rows_errors_show_in_that_row(alice, workflow):
    client = client_of(alice)
    bad = [
        {"name": "vip", "when": "input.vip = true", "next": ["gift"]},
        {"name": "", "when": "steps.gift.output.x", "next": ["check"]},
    ]
    response = client.post(SAVE, rows(*bad) | {"rerender": "1"}, **HTMX)
    errors = errors_in(response)
    assert errors["err-case-0-when"] == ["use == to compare (at column 11)"]
    assert errors["err-case-1-name"] == ["must be a name of 1-100 characters"]
    assert "err-cases" not in errors and "err-case-0-name" not in errors
    # References and targets are checked once every case reads: the row says which is wrong
    bad[0]["when"] = "input.vip == true"
    bad[1]["name"] = "odd"
    response = client.post(SAVE, rows(*bad), **HTMX)  # an autosave: the slots, out of band
    errors = errors_in(response)
    assert errors["err-case-1-when"] == [
        "steps.gift.output.x: step &#x27;gift&#x27; does not run before this one "
        "(add it to after) (at column 1)"
    ]
    assert errors["err-case-1-next"] == [
        "step &#x27;check&#x27; must list &#x27;route&#x27; in its after"
    ]
    assert "err-case-0-when" not in errors and "err-case-0-next" not in errors
    assert 'id="err-case-0-when" hx-swap-oob="true"' in response.content.decode()
    # No case at all is the switch's own error, under the rows
    response = client.post(SAVE, rows() | {"rerender": "1"}, **HTMX)
    assert errors_in(response)["err-cases"] == ["must be a non-empty list of cases"]


def test_the_json_view_round_trips_and_what_rows_cannot_show_stays_json(alice, workflow):
    client = client_of(alice)
    data = rows(*CASES, default=["normal"]) | {"rerender": "1", "cases_show": "json"}
    response = client.post(SAVE, data, **HTMX)
    page = response.content.decode()
    assert saved_switch(workflow) == STEPS[1]
    assert 'id="f-cases"' in page and 'id="cases-view-form"' in page
    assert 'id="case-0-when"' not in page
    # Power users write what the rows cannot show: a condition over two lines
    odd = [{"name": "vip", "when": "input.vip\n== true", "next": ["gift"]}]
    data = {"key": "route", "type": "switch", "after_mode": "default", "cases_view": "json"}
    data |= {"cases": json.dumps(odd), "default": '["normal"]', "rerender": "1"}
    response = client.post(SAVE, data, **HTMX)
    page = response.content.decode()
    assert saved_switch(workflow)["cases"] == odd
    assert 'id="f-cases"' in page and "can only be edited as JSON" in page
    assert 'id="cases-view-form"' not in page


def test_row_functions():
    assert switch_cases.rows_of(CASES)[1] == switch_cases.Row(
        1, "big", "steps.check.output.total > 100", ("review", "gift")
    )
    assert switch_cases.rows_of([{"when": "true"}]) == [switch_cases.Row(0, "", "true", ())]
    assert switch_cases.rows_of([{"name": "a", "when": "true", "extra": 1}]) is None
    assert switch_cases.rows_of([{"name": 3, "when": "true"}]) is None
    assert switch_cases.rows_of("[") is None
    assert switch_cases.default_of(None) == () and switch_cases.default_of("x") is None
    # A blank row between cases stays (each row keeps its index); blank ones at the end go
    data = QueryDict(mutable=True)
    data.update({"case_count": "4", "case-0-name": "a", "case-2-when": "true"})
    assert switch_cases.parse_rows(data) == [
        {"name": "a", "next": []},
        {"next": []},
        {"when": "true", "next": []},
    ]
    rows_ = switch_cases.rows_of(CASES)
    rest, by_row = switch_cases.row_errors(
        [
            "cases[0].when: bad (at column 3)",
            "cases[1]: must be an object",
            "cases[9].name: x",
            "too many",
        ],
        rows_,
    )
    assert rest == ["cases[9].name: x", "too many"]
    assert by_row["case-0-when"] == ["bad (at column 3)"]
    assert by_row["case-1"] == ["must be an object"]
