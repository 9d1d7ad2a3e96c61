"""Sub-workflows over the API: import/export round trip, another workspace's workflow
refused, and a run's `parent` and `children` links both ways, with a real worker."""

import pytest

from core.models import ApiKey
from runner.models import Run
from tests.api import Api, error_of
from tests.runs import wait_for

SHIPPING = {"name": "Shipping", "steps": [{"key": "label", "action": "debug.echo"}]}
ORDER = {
    "name": "Order",
    "steps": [
        {"key": "take", "action": "debug.echo", "input": {"id": 7}},
        {
            "key": "ship",
            "type": "workflow",
            "workflow": "shipping",
            "version": 1,
            "input": {"order": "{{ steps.take.output.id }}"},
            "on_error": [{"match": ["child_failed"], "next": ["sorry"]}],
        },
        {"key": "sorry", "action": "debug.echo", "after": ["ship"]},
    ],
}


@pytest.mark.django_db
def test_a_definition_with_a_sub_workflow_round_trips(api):
    assert api.put("/workflows/shipping?publish=1", SHIPPING).status_code == 201
    assert api.put("/workflows/order?publish=1", ORDER).status_code == 201
    exported = api.get("/workflows/order").json()
    published = exported["latest_version"]["definition"]
    assert published["steps"][1] == {**ORDER["steps"][1], "after": ["take"]}
    assert api.put("/workflows/order-copy?publish=1", published).status_code == 201
    again = api.get("/workflows/order-copy").json()["latest_version"]["definition"]
    assert again == published


@pytest.mark.django_db
def test_another_workspaces_workflow_is_refused_with_its_field(api, client, other_workspace):
    other = Api(client, ApiKey.issue(other_workspace, "other")[1])
    assert other.put("/workflows/shipping?publish=1", SHIPPING).status_code == 201
    response = api.put("/workflows/order?publish=1", ORDER)
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "steps[1].workflow": ["no workflow 'shipping' in this workspace"]
    }


@pytest.mark.django_db
def test_a_cycle_is_refused_at_import(api):
    assert api.put("/workflows/a?publish=1", SHIPPING).status_code == 201
    b = {"steps": [{"key": "run_a", "type": "workflow", "workflow": "a"}]}
    assert api.put("/workflows/b?publish=1", b).status_code == 201
    back = {"steps": [{"key": "run_b", "type": "workflow", "workflow": "b"}]}
    response = api.put("/workflows/a?publish=1", back)
    assert response.status_code == 422
    assert error_of(response)["fields"] == {
        "steps[0].workflow": ["sub-workflows would run in a cycle: a -> b -> a"]
    }


@pytest.mark.django_db(transaction=True)
def test_parent_and_child_link_to_each_other(api, worker):
    api.put("/workflows/shipping?publish=1", SHIPPING)
    api.put("/workflows/order?publish=1", ORDER)
    started = api.post("/workflows/order/runs", {"input": {}}).json()
    parent = wait_for(Run.objects.get(id=started["id"]))
    assert parent.status == "succeeded", parent.error
    child = Run.objects.get(parent_run=parent)
    body = api.get(f"/runs/{parent.id}").json()
    assert body["parent"] is None
    assert body["children"] == [
        {"run": child.id, "step": "ship", "workflow": "shipping", "status": "succeeded"}
    ]
    ship = next(s for s in body["steps"] if s["key"] == "ship")
    assert ship["type"] == "workflow" and ship["child_run"] == child.id
    assert ship["attempts"] == []
    child_body = api.get(f"/runs/{child.id}").json()
    assert child_body["parent"] == {"run": parent.id, "step": "ship", "status": "succeeded"}
    assert child_body["children"] == [] and child_body["trigger"] == "parent"
