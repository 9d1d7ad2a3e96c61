"""The rerun dialog's new choices: the failed step's input (checked JSON), a skipped
step, "resolve the original", its live ledger; and the inbox's bulk rerun version."""

import json

import pytest

from builder.definition import validate
from builder.models import Workflow
from runner import launch
from runner.models import Run
from tests.drive import drive
from tests.web import saga_steps

pytestmark = pytest.mark.django_db


def failed_checkout(workspace, alice):
    definition = validate({"name": "Checkout", "steps": saga_steps()}, workspace)
    workflow = Workflow.objects.create(
        workspace=workspace, slug="checkout", name="Checkout", draft=definition
    )
    version = workflow.publish(definition, "first", alice)
    run = launch.start_run(
        workspace=workspace,
        definition=definition,
        input={"name": "Ada", "fail_times": -1},
        workflow=workflow,
        workflow_version=version,
    )
    return drive(run)


def post(client, run, **fields):
    data = {"start_from": "failed", "version": "pinned", "input_mode": "original", **fields}
    return client.post(f"/w/acme/runs/{run.id}/rerun", data)


def test_bad_step_input_is_a_field_error(client, alice, workspace):
    client.force_login(alice)
    run = failed_checkout(workspace, alice)
    for text, message in [
        ('{"fail_times": ', "Not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"fail_times": "many"}', "fail_times"),  # the action's schema
    ]:
        response = post(client, run, step_input=text, resolve_original="on")
        assert response.status_code == 422
        assert message in response.context["form"].errors["step_input"][0]
    assert not Run.objects.filter(rerun_of=run).exists()


def test_skip_and_unticked_resolve_are_recorded(client, alice, workspace):
    client.force_login(alice)
    run = failed_checkout(workspace, alice)
    response = post(client, run, skip="charge")  # resolve_original left unticked
    assert response.status_code == 302
    rerun = drive(Run.objects.get(rerun_of=run))
    assert rerun.resolve_original is False
    assert rerun.definition["steps"][2]["skip"]["by"] == "alice"
    assert rerun.steps.get(key="charge").status == "skipped"
    assert rerun.status == "succeeded"
    run.refresh_from_db()
    assert run.resolved_at is None
    page = client.get(f"/w/acme/runs/{rerun.id}/").content.decode()
    assert "skipped by alice at " in page


def test_unchanged_step_input_is_no_edit(client, alice, workspace):
    client.force_login(alice)
    run = failed_checkout(workspace, alice)
    shown = json.dumps({"fail_times": -1}, indent=2)
    assert post(client, run, step_input=shown, resolve_original="on").status_code == 302
    rerun = Run.objects.get(rerun_of=run)
    assert rerun.definition["steps"][2]["input"] == {"fail_times": "{{ input.fail_times }}"}
    assert rerun.resolve_original is True


def test_the_ledger_follows_the_choices(client, alice, workspace, bob):
    client.force_login(alice)
    run = failed_checkout(workspace, alice)
    url = f"/w/acme/runs/{run.id}/rerun/ledger"
    html = client.get(url, {"start_from": "failed"}).content.decode()
    assert 'data-step="greet" data-fate="reused"' in html
    html = client.get(url, {"start_from": "start"}).content.decode()
    assert 'data-step="greet" data-fate="runs again"' in html
    html = client.get(url, {"start_from": "failed", "skip": "charge"}).content.decode()
    assert 'data-step="charge" data-fate="skipped"' in html
    # nonsense choices fall back to a plain rerun, never an error
    assert client.get(url, {"start_from": "x", "skip": "nope", "version": "?"}).status_code == 200
    client.force_login(bob)  # a viewer
    assert client.get(url).status_code == 404  # as the rerun dialog itself


def test_bulk_rerun_on_the_latest_version(client, alice, workspace):
    client.force_login(alice)
    run = failed_checkout(workspace, alice)
    steps = saga_steps(fail_times=0)
    v2 = run.workflow.publish(validate({"name": "Checkout", "steps": steps}, workspace), "", alice)
    client.post("/w/acme/failures/bulk", {"runs": [run.id], "action": "rerun", "version": "latest"})
    rerun = Run.objects.get(rerun_of=run)
    assert rerun.workflow_version_id == v2.id
    assert drive(rerun).status == "succeeded"
    run.refresh_from_db()
    assert run.resolved_by_run_id == rerun.id
