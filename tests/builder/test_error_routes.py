"""The panel's `on_error` rows and condition autocomplete through Django's test client: the
rows write the definition's JSON, show it back, carry their own field errors, and the
condition's references are those the validator accepts."""

import json

import pytest

from builder import error_routes
from builder.models import Workflow
from tests.builder.test_builder_views import HTMX, client_of, errors_in

pytestmark = pytest.mark.django_db

STEPS = [
    {"key": "charge", "action": "debug.echo@1", "input": {}},
    {"key": "apologise", "action": "debug.echo@1", "input": {}, "after": ["charge"]},
    {"key": "later", "action": "debug.echo@1", "input": {}, "after": ["charge"]},
]


@pytest.fixture
def workflow(workspace, alice):
    return Workflow.objects.create(
        workspace=workspace, slug="pay", name="Pay", draft={"name": "Pay", "steps": STEPS}
    )


def form(**rows):
    return {
        "key": "charge",
        "action": "debug.echo@1",
        "input": "{}",
        "after_mode": "default",
        "retry_mode": "default",
        "on_error_view": "form",
        **rows,
    }


def saved_step(workflow):
    workflow.refresh_from_db()
    return workflow.draft["steps"][0]


def test_rows_write_the_definition_json(alice, workflow):
    data = form(
        route_count="2",
        **{
            "route-0-match": ["*", "timeout"],  # written in the form's order
            "route-0-codes": " card_declined , ,TimeoutError",
            "route-0-next": ["apologise", "later"],
            "route-1-codes": "",  # the blank row: no route
        },
    )
    client_of(alice).post("/w/acme/workflows/pay/steps/0/save/", data, **HTMX)
    assert saved_step(workflow)["on_error"] == [
        {"match": ["timeout", "*", "card_declined", "TimeoutError"], "next": ["apologise", "later"]}
    ]


def test_removing_the_last_route_removes_on_error(alice, workflow):
    workflow.draft["steps"][0]["on_error"] = [{"match": ["*"], "next": ["apologise"]}]
    workflow.save()
    data = form(route_count="2", route_remove="0", rerender="1")
    data |= {"route-0-match": ["*"], "route-0-next": ["apologise"]}
    response = client_of(alice).post("/w/acme/workflows/pay/steps/0/save/", data, **HTMX)
    assert response.status_code == 200
    assert "on_error" not in saved_step(workflow)


def test_a_row_error_shows_in_its_row(alice, workflow):
    data = form(route_count="1", **{"route-0-match": ["timeout"]})
    response = client_of(alice).post(
        "/w/acme/workflows/pay/steps/0/save/", data | {"rerender": "1"}, **HTMX
    )
    assert response.status_code == 200
    assert errors_in(response)["err-on_error-0"] == ["next: must name at least one handler step"]


def test_json_view_round_trips_and_a_shape_rows_cannot_show_stays_json(alice, workflow):
    client = client_of(alice)
    routes = [{"match": ["timeout"], "next": ["apologise"]}]
    data = form(route_count="1", on_error_show="json", rerender="1")
    data |= {"route-0-match": ["timeout"], "route-0-next": ["apologise"]}
    response = client.post("/w/acme/workflows/pay/steps/0/save/", data, **HTMX)
    assert saved_step(workflow)["on_error"] == routes
    assert 'id="f-on-error"' in response.content.decode()
    assert 'id="route-view-form"' in response.content.decode()
    # Power users write what the rows cannot show: the panel keeps it as JSON
    odd = {"on_error_view": "json", "on_error": json.dumps({"match": "*"}), "rerender": "1"}
    response = client.post("/w/acme/workflows/pay/steps/0/save/", form() | odd, **HTMX)
    page = response.content.decode()
    assert 'id="f-on-error"' in page and "can only be edited as JSON" in page
    assert "must be a list of at most 20 routes" in page


def test_a_condition_offers_what_it_may_reference(alice, workflow):
    page = client_of(alice).get("/w/acme/workflows/pay/?step=1").content.decode()
    for ref in ("input", "steps.charge.output", "steps.charge.status", "run.id"):
        assert f'data-ref="{ref}"' in page
    assert 'id="f-when-list"' in page
    assert 'data-ref="steps.later.status"' not in page  # not upstream of `apologise`


def test_a_bad_condition_is_a_field_error(alice, workflow):
    data = form(when="steps.charge.output.total >")
    response = client_of(alice).post("/w/acme/workflows/pay/steps/0/save/", data, **HTMX)
    assert response.status_code == 200
    (message,) = errors_in(response)["err-when"]
    assert "column 28" in message


def test_rows_of_and_row_errors():
    rows = error_routes.rows_of([{"match": ["child_failed", "E1"], "next": ["a"]}])
    assert rows == [error_routes.Row(0, ("child_failed",), "E1", ("a",))]
    assert error_routes.rows_of([{"match": ["a,b"], "next": []}]) is None
    assert error_routes.rows_of("[") is None
    rest, by_row = error_routes.row_errors(
        ["on_error[0].next: unknown step 'x'", "on_error: too many"], rows
    )
    assert rest == ["on_error: too many"]
    assert by_row == {"on_error-0": ["next: unknown step 'x'"]}
