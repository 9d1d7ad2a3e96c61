"""The schedules pages: create with field errors shown in the form, pause and resume, the
preview of fire times, the workspace's list, and viewers kept to reading."""

import pytest

from builder.definition import validate
from builder.models import Workflow
from runner.models import Schedule

pytestmark = pytest.mark.django_db

PAGE = "/w/acme/workflows/report/schedules/"


@pytest.fixture
def workflow(workspace):
    workflow = Workflow.objects.create(workspace=workspace, slug="report", name="Report")
    workflow.publish(validate({"steps": [{"key": "a", "action": "debug.echo"}]}, workspace))
    return workflow


@pytest.fixture
def owner(client, alice):
    client.force_login(alice)
    return client


def form(**fields):
    data = {"name": "nightly", "cron": "@daily", "interval_s": "", "timezone": "UTC"}
    data |= {"input": "{}", "overlap": "skip", "catchup_window_s": "3600"}
    return data | fields


def test_create_pause_resume_and_list(owner, workflow):
    response = owner.post(PAGE, form(input='{"region": "eu"}'))
    assert response.status_code == 302
    schedule = Schedule.objects.get()
    assert schedule.input == {"region": "eu"} and schedule.next_fire_at is not None
    page = owner.get(PAGE).content.decode()
    assert "nightly" in page and "@daily" in page and "none yet" in page
    owner.post(f"{PAGE}{schedule.id}/toggle/")
    schedule.refresh_from_db()
    assert schedule.paused
    owner.post(f"{PAGE}{schedule.id}/toggle/")
    schedule.refresh_from_db()
    assert not schedule.paused
    everything = owner.get("/w/acme/schedules/").content.decode()
    assert "nightly" in everything and "Report" in everything


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"cron": "61 * * * *"}, "Not a valid cron expression"),
        ({"cron": "", "interval_s": ""}, "either a cron expression or an interval"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"input": "[1, 2]"}, "Must be a JSON object"),
        ({"input": "{oops"}, "Not JSON"),
        ({"cron": "", "interval_s": "9" * 30}, "Ensure this value"),
    ],
)
def test_bad_input_is_a_form_error(owner, workflow, fields, message):
    response = owner.post(PAGE, form(**fields))
    assert response.status_code == 422 and message in response.content.decode()
    assert not Schedule.objects.exists()


def test_the_preview_shows_the_next_five_times_or_what_is_wrong(owner, workflow):
    preview = owner.get(f"{PAGE}preview/", {"cron": "0 9 * * *", "timezone": "Asia/Tokyo"})
    assert preview.content.decode().count("00:00:00 UTC") == 5  # 09:00 in Tokyo
    wrong = owner.get(f"{PAGE}preview/", {"cron": "0 25 * * *"}).content.decode()
    assert "Not a valid cron expression" in wrong
    huge = owner.get(f"{PAGE}preview/", {"interval_s": "9" * 40})
    assert huge.status_code == 200 and "whole number of seconds" in huge.content.decode()


def test_viewers_read_but_cannot_change(client, bob, workflow):
    client.force_login(bob)
    assert client.get(PAGE).status_code == 200
    assert client.post(PAGE, form()).status_code == 404
    assert client.get(f"{PAGE}preview/", {"cron": "@daily"}).status_code == 404
    assert not Schedule.objects.exists()
