"""`/api/v1/workflows/<slug>/schedules`: create with a preview of fire times, field errors,
pause and resume, backfill, and another workspace's schedules out of reach."""

import json

import pytest

from builder.definition import validate
from builder.models import Workflow
from core import key_order
from core.models import ApiKey
from runner.models import Run, Schedule
from tests.api import Api, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def workflow(workspace):
    workflow = Workflow.objects.create(workspace=workspace, slug="report", name="Report")
    workflow.publish(validate({"steps": [{"key": "a", "action": "debug.echo"}]}, workspace))
    return workflow


def test_a_schedule_answers_with_its_next_fire_times(api, workflow):
    body = {"name": "weekday mornings", "cron": "30 9 * * mon-fri", "timezone": "Europe/Berlin"}
    response = api.post("/workflows/report/schedules", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["overlap"] == "skip" and created["catchup_window_s"] == 3600
    times = created["next_fire_times"]
    assert len(times) == 5 and times == sorted(times)
    assert all(t.endswith(("07:30:00Z", "08:30:00Z")) for t in times)  # 09:30 in Berlin
    assert api.get("/workflows/report/schedules").json()[0]["id"] == created["id"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "cron": "61 * * * *"}, "cron"),
        ({"name": "x", "cron": "@hourly", "interval_s": 60}, "cron"),
        ({"name": "x"}, "cron"),
        ({"name": "x", "cron": "@daily", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "x", "interval_s": 0}, "interval_s"),
        ({"name": "x", "cron": "@daily", "overlap": "sometimes"}, "overlap"),
    ],
)
def test_bad_schedules_are_field_errors(api, workflow, body, field):
    response = api.post("/workflows/report/schedules", body)
    assert response.status_code == 422
    assert any(field in path for path in error_of(response)["fields"]), error_of(response)
    assert not Schedule.objects.exists()


def test_names_are_unique_per_workflow(api, workflow):
    assert (
        api.post("/workflows/report/schedules", {"name": "x", "cron": "@daily"}).status_code == 201
    )
    again = api.post("/workflows/report/schedules", {"name": "x", "cron": "@hourly"})
    assert again.status_code == 422 and "name" in error_of(again)["fields"]


def test_pause_resume_and_delete(api, workflow):
    created = api.post("/workflows/report/schedules", {"name": "x", "interval_s": 60}).json()
    path = f"/workflows/report/schedules/{created['id']}"
    paused = api.patch(path, {"paused": True}).json()
    assert paused["paused"] and paused["next_fire_times"] == [] and paused["name"] == "x"
    resumed = api.patch(path, {"paused": False}).json()
    assert len(resumed["next_fire_times"]) == 5
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_backfill_starts_one_run_per_past_fire_time(api, workflow):
    created = api.post("/workflows/report/schedules", {"name": "x", "cron": "0 * * * *"}).json()
    path = f"/workflows/report/schedules/{created['id']}/backfill"
    body = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T05:00:00Z"}
    response = api.post(path, body)
    assert response.status_code == 202 and len(response.json()["runs"]) == 5
    assert api.post(path, body).json()["runs"] == []  # each fire time runs once
    hours = sorted(r.scheduled_for.hour for r in Run.objects.filter(trigger="schedule"))
    assert hours == [1, 2, 3, 4, 5]
    empty = api.post(path, {"start": body["end"], "end": body["start"]})
    assert empty.status_code == 422


def test_another_workspaces_schedules_are_out_of_reach(client, api, workflow, other_workspace):
    created = api.post("/workflows/report/schedules", {"name": "x", "cron": "@daily"}).json()
    stranger = Api(client, ApiKey.issue(other_workspace, "stranger")[1])
    assert stranger.get(f"/workflows/report/schedules/{created['id']}").status_code == 404
    assert (
        stranger.post("/workflows/report/schedules", {"name": "y", "cron": "@daily"}).status_code
        == 404
    )


def test_a_schedule_s_input_keeps_its_key_order_in_the_api_and_its_runs(api, workflow):
    # Given a schedule whose input's keys are in an order PostgreSQL's jsonb does not keep
    given = {"zeta": 1, "beta": {"yankee": 1, "xray": 2}}
    body = {"name": "ordered", "cron": "0 * * * *", "input": given}
    created = api.post("/workflows/report/schedules", body).json()
    # Then the API gives it back in that order
    listed = api.get("/workflows/report/schedules").json()
    for schedule in (created, listed[0]):
        assert list(schedule["input"]) == ["zeta", "beta"]
        assert list(schedule["input"]["beta"]) == ["yankee", "xray"]
    # And a run it starts has it in that order too
    path = f"/workflows/report/schedules/{created['id']}/backfill"
    api.post(path, {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z"})
    run = Run.objects.get(trigger="schedule")
    assert json.dumps(key_order.ordered(run, "input")) == json.dumps(given)
