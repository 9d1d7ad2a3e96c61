"""A key's role bounds what it may do, as a member's role bounds a person in the browser."""

import pytest

from core.models import ApiKey
from tests.api import Api, error_of

pytestmark = pytest.mark.django_db
EXAMPLE_PATH = {
    "name": "debug.echo",
    "slug": "echo",
    "run_id": "1",
    "trigger_id": "1",
    "version": "1",
    "number": "1",
    "member_id": "1",
    "key_id": "1",
}


def mutations(document):
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            if method != "get":
                path = template.removeprefix("/api/v1")
                for name, value in EXAMPLE_PATH.items():
                    path = path.replace("{" + name + "}", value)
                yield method, path, operation["operationId"]


def test_a_viewer_key_reads_but_every_change_is_a_403(client, workspace, echo_workflow):
    # Given a viewer key
    viewer = Api(client, ApiKey.issue(workspace, "dashboard", "viewer")[1])
    # Then it reads
    assert viewer.get("/workflows/echo").status_code == 200
    assert viewer.get("/members").status_code == 200
    # And every operation that changes something answers 403 in the error shape
    document = client.get("/api/v1/openapi.json").json()
    changes = list(mutations(document))
    assert len(changes) >= 20
    for method, path, operation_id in changes:
        response = viewer.call(method, path, {})
        assert response.status_code == 403, (operation_id, response.content)
        assert error_of(response)["code"] == "forbidden"
    # And nothing was changed
    assert echo_workflow.versions.count() == 1 and workspace.api_keys.count() == 1


def test_an_editor_key_cannot_manage_members(api, workspace, alice, bob):
    response = api.patch(f"/members/{bob.memberships.get().id}", {"role": "owner"})
    assert response.status_code == 403
    assert "owner" in error_of(response)["message"]
    assert api.delete(f"/members/{bob.memberships.get().id}").status_code == 403
    assert bob.memberships.get().role == "viewer"
