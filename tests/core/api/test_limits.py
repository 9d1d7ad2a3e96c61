"""`/api/v1/limits`: create, read, change and delete a workspace's limits on actions;
field errors in the error shape; viewers read only; another workspace's are out of reach."""

import pytest

from core.models import ApiKey, Role
from runner.models import ActionLimit
from tests.api import Api, error_of

pytestmark = pytest.mark.django_db

HOSTS = {
    "name": "example.com",
    "action": "http.request",
    "key": "{{ input.url }}",
    "key_part": "host",
    "max_concurrent": 5,
    "rate_per_s": 10,
}


def test_a_limit_is_created_read_changed_and_deleted(api):
    response = api.post("/limits", HOSTS)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["burst"] == 1 and created["key_part"] == "host"
    assert api.get("/limits").json() == [created]
    changed = api.patch(f"/limits/{created['id']}", {"rate_per_s": 2.5, "burst": 3}).json()
    assert (changed["rate_per_s"], changed["burst"], changed["name"]) == (2.5, 3, "example.com")
    assert api.get(f"/limits/{created['id']}").json() == changed
    assert api.delete(f"/limits/{created['id']}").status_code == 204
    assert api.get("/limits").json() == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "action": "debug.sleep"}, "max_concurrent"),
        ({"name": "x", "action": "debug.sleep", "max_concurrent": 0}, "max_concurrent"),
        ({"name": "x", "action": "debug.sleep", "rate_per_s": -1}, "rate_per_s"),
        ({"name": "x", "action": "debug.sleep", "rate_per_s": 1, "burst": 0}, "burst"),
        ({"name": "x", "action": "debug.sleep", "rate_per_s": 1, "key": "url"}, "key"),
        ({"name": "x", "action": "debug.sleep", "rate_per_s": 1, "key": "{{ run.id }}"}, "key"),
        ({"name": "x", "action": "debug.sleep", "rate_per_s": 1, "key_part": "port"}, "key_part"),
        ({"name": "  ", "action": "debug.sleep", "rate_per_s": 1}, "name"),
        ({"name": "x", "action": "debug.sleep", "rate_per_s": 1, "extra": 1}, "extra"),
    ],
)
def test_a_bad_limit_is_a_field_error(api, body, field):
    response = api.post("/limits", body)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not ActionLimit.objects.exists()


def test_two_limits_of_one_name_are_refused(api):
    assert api.post("/limits", HOSTS).status_code == 201
    response = api.post("/limits", {**HOSTS, "action": "email.send"})
    assert response.status_code == 422
    assert "name" in error_of(response)["fields"]


def test_a_viewer_key_reads_limits_but_cannot_change_them(client, api, workspace):
    created = api.post("/limits", HOSTS).json()
    viewer = Api(client, ApiKey.issue(workspace, "viewer", role=Role.VIEWER)[1])
    assert viewer.get("/limits").status_code == 200
    assert viewer.post("/limits", {**HOSTS, "name": "other"}).status_code == 403
    assert viewer.delete(f"/limits/{created['id']}").status_code == 403


def test_another_workspaces_limits_are_out_of_reach(client, api, other_workspace):
    theirs = ActionLimit.objects.create(
        workspace=other_workspace, name="theirs", action="debug.sleep", max_concurrent=1
    )
    assert api.get("/limits").json() == []
    for call in (api.get, api.delete):
        assert call(f"/limits/{theirs.id}").status_code == 404
    assert api.patch(f"/limits/{theirs.id}", {"burst": 2}).status_code == 404
    assert ActionLimit.objects.get(id=theirs.id).burst == 1


@pytest.mark.django_db(transaction=True)
def test_the_python_client_manages_limits(brickwork):
    from core.client import BrickworkError

    created = brickwork.limits.create("hosts", "http.request", key="{{ input.url }}",
                                      key_part="host", rate_per_s=10)  # fmt: skip
    assert brickwork.limits.update(created["id"], burst=4)["burst"] == 4
    assert [limit["name"] for limit in brickwork.limits.list()] == ["hosts"]
    with pytest.raises(BrickworkError) as bad:
        brickwork.limits.create("none", "http.request")
    assert bad.value.status == 422 and "max_concurrent" in bad.value.fields
    brickwork.limits.delete(created["id"])
    assert brickwork.limits.list() == []
