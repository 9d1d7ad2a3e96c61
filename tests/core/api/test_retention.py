"""The retention policy and the keep flag through the API."""

import pytest

from core.models import ApiKey
from runner.models import Run
from tests.api import Api, error_of
from tests.drive import drive
from tests.runs import start

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client, workspace):
    return Api(client, ApiKey.issue(workspace, "admin script", "owner")[1])


def test_an_owner_key_reads_and_sets_the_policy(owner, workspace):
    read = owner.get("/retention").json()
    assert read["keep_runs_days"] == 30 and read["keep_failed_runs_days"] == 90
    assert read["runs"] == 0 and read["due_runs"] == 0
    saved = owner.put("/retention", {"keep_runs_days": 7, "keep_failed_runs_days": 14})
    assert saved.status_code == 200, saved.content
    workspace.refresh_from_db()
    assert (workspace.keep_runs_days, workspace.keep_failed_runs_days) == (7, 14)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"keep_runs_days": 0, "keep_failed_runs_days": 9}, "keep_runs_days"),
        ({"keep_runs_days": 9, "keep_failed_runs_days": 99999}, "keep_failed_runs_days"),
        ({"keep_runs_days": "x", "keep_failed_runs_days": 9}, "keep_runs_days"),
    ],
)
def test_a_bad_policy_is_a_field_error(owner, body, field):
    answer = owner.put("/retention", body)
    assert answer.status_code == 422
    assert field in str(error_of(answer)["fields"])


def test_an_editor_key_may_not_change_the_policy(api):
    answer = api.put("/retention", {"keep_runs_days": 1, "keep_failed_runs_days": 1})
    assert answer.status_code == 403
    assert api.get("/retention").status_code == 200


def test_keep_pins_a_run_and_lets_it_go(api, workspace, other_workspace):
    run = drive(start(workspace, [{"key": "a", "action": "debug.echo", "input": {}}]))
    kept = api.post(f"/runs/{run.id}/keep", {})
    assert kept.status_code == 200 and kept.json()["keep"] is True
    assert Run.objects.get(id=run.id).keep is True
    assert api.post(f"/runs/{run.id}/keep", {"keep": False}).json()["keep"] is False
    assert api.post(f"/runs/{run.id}/keep", {"keep": "maybe"}).status_code == 422
    theirs = start(other_workspace, [{"key": "a", "action": "debug.echo", "input": {}}])
    assert api.post(f"/runs/{theirs.id}/keep", {}).status_code == 404
