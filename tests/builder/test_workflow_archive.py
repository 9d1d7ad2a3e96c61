"""Archiving, unarchiving and deleting a workflow on the workflow list (the API's twins:
archiveWorkflow, unarchiveWorkflow, deleteWorkflow)."""

import pytest

from builder.models import Workflow
from runner import launch
from runner.models import Run
from tests.api import ECHO_WORKFLOW

pytestmark = pytest.mark.django_db
ROW = 'href="/w/acme/workflows/echo/"'  # the workflow's row links to its builder


@pytest.fixture
def echo(workspace):
    from builder.definition import validate

    workflow = Workflow.objects.create(
        workspace=workspace, slug="echo", name="Echo twice", draft=ECHO_WORKFLOW
    )
    workflow.publish(validate(ECHO_WORKFLOW, workspace))
    return workflow


def test_archive_hides_it_and_stops_runs_then_unarchive_brings_it_back(client, alice, echo):
    client.force_login(alice)
    assert client.post("/w/acme/workflows/echo/archive/").status_code == 302
    assert ROW not in client.get("/w/acme/workflows/").content.decode()
    assert ROW in client.get("/w/acme/workflows/?archived=1").content.decode()
    # An archived workflow's run page starts nothing
    page = client.post("/w/acme/workflows/echo/run/", {"n": "1"})
    assert "This workflow is archived" in page.content.decode()
    assert not Run.objects.exists()
    client.post("/w/acme/workflows/echo/unarchive/")
    assert ROW in client.get("/w/acme/workflows/").content.decode()


def test_delete_only_an_archived_workflow_and_its_runs_stay(client, alice, workspace, echo):

    client.force_login(alice)
    version = echo.latest_version()
    run = launch.start_run(
        workspace=workspace,
        definition=version.definition,
        input={"n": 1},
        workflow=echo,
        workflow_version=version,
    )
    refused = client.post("/w/acme/workflows/echo/delete/", follow=True)
    assert "Archive the workflow before deleting it" in refused.content.decode()
    client.post("/w/acme/workflows/echo/archive/")
    client.post("/w/acme/workflows/echo/delete/")
    assert not Workflow.objects.exists()
    assert Run.objects.get(id=run.id).workflow_id is None


def test_a_viewer_and_a_stranger_change_nothing(client, bob, charlie, echo):
    for person in (bob, charlie):
        client.force_login(person)
        for action in ("archive", "unarchive", "delete"):
            assert client.post(f"/w/acme/workflows/echo/{action}/").status_code == 404
    echo.refresh_from_db()
    assert echo.archived_at is None
