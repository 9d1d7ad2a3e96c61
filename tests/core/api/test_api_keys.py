"""API keys through the API: the key shown once, roles never above the creator's, revoke."""

import pytest

from core.models import ApiKey
from tests.api import Api, error_of

pytestmark = pytest.mark.django_db


def test_create_shows_the_key_once_and_it_works(api, client):
    created = api.post("/api-keys", {"name": "billing", "role": "viewer"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["key"].startswith("bw_") and body["role"] == "viewer"
    # The list never shows a key
    listed = api.get("/api-keys").content.decode()
    assert body["key"] not in listed and "billing" in listed
    # And the new key reads, as a viewer
    viewer = Api(client, body["key"])
    assert viewer.get("/runs").status_code == 200
    assert viewer.post("/api-keys", {"name": "more"}).status_code == 403


def test_a_key_never_makes_a_key_that_may_do_more(api):
    response = api.post("/api-keys", {"name": "root", "role": "owner"})
    assert response.status_code == 422 and "role" in error_of(response)["fields"]
    blank = api.post("/api-keys", {"name": "  "})
    assert blank.status_code == 422 and "name" in error_of(blank)["fields"]


def test_revoked_keys_get_401(api, client, workspace):
    key, raw = ApiKey.issue(workspace, "old")
    revoked = api.post(f"/api-keys/{key.id}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert Api(client, raw).get("/runs").status_code == 401
    assert api.post(f"/api-keys/{key.id}/revoke").status_code == 200  # once is enough


def test_another_workspaces_key_is_not_found(api, other_workspace):
    theirs, raw = ApiKey.issue(other_workspace, "theirs")
    assert api.post(f"/api-keys/{theirs.id}/revoke").status_code == 404
    assert [k["name"] for k in api.get("/api-keys").json()] == ["tests"]
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
