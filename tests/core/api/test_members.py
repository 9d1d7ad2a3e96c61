"""Members and roles through the API: owner keys manage them; one owner always stays."""

import pytest

from core.models import ApiKey, Membership
from tests.api import Api, error_of
from tests.personas import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client, workspace):
    return Api(client, ApiKey.issue(workspace, "admin script", "owner")[1])


def test_owner_key_adds_changes_and_removes_members(owner, workspace, alice, bob):
    # Given a person with an account
    make_user("dora")
    # When an owner key adds her, makes her an owner, then removes her
    added = owner.post("/members", {"username": "dora", "role": "viewer"})
    assert added.status_code == 201, added.content
    member_id = added.json()["id"]
    assert owner.patch(f"/members/{member_id}", {"role": "owner"}).json()["role"] == "owner"
    listed = {m["username"]: m["role"] for m in owner.get("/members").json()}
    assert listed == {"alice": "owner", "bob": "viewer", "dora": "owner"}
    assert owner.delete(f"/members/{member_id}").status_code == 204
    assert not Membership.objects.filter(user__username="dora").exists()


def test_add_refuses_strangers_to_the_site_and_members(owner, alice):
    unknown = owner.post("/members", {"username": "nobody"})
    assert unknown.status_code == 422 and "username" in error_of(unknown)["fields"]
    again = owner.post("/members", {"username": "alice", "role": "editor"})
    assert again.status_code == 422 and "already" in error_of(again)["fields"]["username"][0]
    bad_role = owner.post("/members", {"username": "alice", "role": "admin"})
    assert bad_role.status_code == 422 and "role" in error_of(bad_role)["fields"]


def test_the_last_owner_cannot_be_demoted_or_removed(owner, alice):
    alices = alice.memberships.get().id
    demoted = owner.patch(f"/members/{alices}", {"role": "editor"})
    assert demoted.status_code == 409 and error_of(demoted)["code"] == "last_owner"
    assert owner.delete(f"/members/{alices}").status_code == 409
    assert alice.memberships.get().role == "owner"


def test_another_workspaces_members_are_not_found(owner, charlie):
    charlies = charlie.memberships.get().id
    assert owner.patch(f"/members/{charlies}", {"role": "viewer"}).status_code == 404
    assert owner.delete(f"/members/{charlies}").status_code == 404
    assert owner.get("/members").json() == []
    assert charlie.memberships.get().role == "owner"
