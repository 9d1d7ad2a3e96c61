"""The settings page: the retention policy, and what it stores and will delete."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runner.models import Run
from tests.drive import drive
from tests.runs import start

pytestmark = pytest.mark.django_db
ECHO = [{"key": "a", "action": "debug.echo", "input": {}}]


def test_the_page_shows_what_is_stored_and_what_goes_next(client, alice, workspace):
    old = drive(start(workspace, ECHO))
    drive(start(workspace, ECHO))
    Run.objects.filter(id=old.id).update(ended_at=timezone.now() - timedelta(days=40))
    client.force_login(alice)
    page = client.get("/w/acme/settings/").content.decode()
    assert 'id="stored-runs">2<' in page
    assert 'id="due-runs">1 run (1 attempt)<' in page
    assert 'id="next-pass">1 run<' in page


def test_an_owner_saves_the_policy_and_bad_days_are_field_errors(client, alice, workspace):
    client.force_login(alice)
    bad = client.post("/w/acme/settings/retention", {"keep_runs_days": "0"})
    assert bad.status_code == 422
    assert "greater than or equal to 1" in bad.content.decode()
    assert "This field is required" in bad.content.decode()
    good = client.post(
        "/w/acme/settings/retention", {"keep_runs_days": "3", "keep_failed_runs_days": "5"}
    )
    assert good.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.keep_runs_days, workspace.keep_failed_runs_days) == (3, 5)


def test_a_viewer_sees_the_figures_but_cannot_save(client, bob, workspace):
    client.force_login(bob)
    assert client.get("/w/acme/settings/").status_code == 200
    answer = client.post(
        "/w/acme/settings/retention", {"keep_runs_days": "1", "keep_failed_runs_days": "1"}
    )
    assert answer.status_code == 404
    workspace.refresh_from_db()
    assert workspace.keep_runs_days == 30


def test_keep_button_on_the_run_page(client, alice, bob, workspace):
    run = drive(start(workspace, ECHO))
    client.force_login(alice)
    assert "Keep for ever" in client.get(f"/w/acme/runs/{run.id}/").content.decode()
    assert client.post(f"/w/acme/runs/{run.id}/keep", {"keep": "1"}).status_code == 302
    page = client.get(f"/w/acme/runs/{run.id}/").content.decode()
    assert 'id="run-kept"' in page and "Stop keeping" in page
    client.post(f"/w/acme/runs/{run.id}/keep", {"keep": "0"})
    assert Run.objects.get(id=run.id).keep is False
    client.force_login(bob)
    assert client.post(f"/w/acme/runs/{run.id}/keep").status_code == 404
