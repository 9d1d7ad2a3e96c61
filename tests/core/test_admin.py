"""The Django admin: every model is registered, and history cannot be changed there."""

import pytest
from django.apps import apps
from django.contrib import admin

from runner.models import Run

pytestmark = pytest.mark.django_db

VALUE = "s3cr3t-value"
HISTORY = [
    "core.ActionVersion",
    "core.AuditEntry",
    "builder.WorkflowVersion",
    "builder.WebhookDelivery",
    "runner.Run",
    "runner.StepRun",
    "runner.Attempt",
    "runner.RunEvent",
]


def test_every_model_of_ours_is_registered():
    ours = [m for m in apps.get_models() if m._meta.app_label in ("core", "builder", "runner")]
    missing = [m._meta.label for m in ours if not admin.site.is_registered(m)]
    assert missing == []


@pytest.mark.parametrize("label", HISTORY)
def test_history_is_read_only(rf, admin_user, label):
    model_admin = admin.site._registry[apps.get_model(label)]
    request = rf.get("/")
    request.user = admin_user
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_admin_pages_render_and_hide_secrets(admin_client, workspace):
    from core.models import ApiKey, Secret
    from tests.drive import drive
    from tests.runs import start

    # Given a run whose input, outputs and errors all carry a secret's value
    Secret.objects.create(workspace=workspace, name="TOKEN", value=VALUE)
    run = drive(
        start(
            workspace,
            [
                {"key": "echo", "action": "debug.echo", "input": {"t": "{{ secrets.TOKEN }}"}},
                {
                    "key": "fail",
                    "action": "debug.fail",
                    "input": {"message": "bad {{ input.t }}", "retryable": False},
                },
            ],
            input={"t": VALUE},
        )
    )
    assert run.status == "failed"
    key, raw = ApiKey.issue(workspace, "ci")
    step, attempt = run.steps.get(key="echo"), run.attempts.first()
    event = run.events.filter(type="attempt.failed").first()
    for url in [
        "/admin/",
        "/admin/runner/run/",
        f"/admin/runner/run/{run.id}/change/",
        f"/admin/runner/steprun/{step.id}/change/",
        f"/admin/runner/attempt/{attempt.id}/change/",
        f"/admin/runner/runevent/{event.id}/change/",
        "/admin/runner/attempt/",
        "/admin/runner/runevent/",
        "/admin/core/secret/",
        f"/admin/core/secret/{Secret.objects.get().id}/change/",
        f"/admin/core/apikey/{key.id}/change/",
        "/admin/core/actionversion/",
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert VALUE not in html and key.hashed not in html and raw not in html, url
    # And the data is there, masked, on the run's page
    page = admin_client.get(f"/admin/runner/run/{run.id}/change/").content.decode()
    assert "&quot;t&quot;: &quot;***&quot;" in page and "bad ***" in page
    assert Run.objects.count() == 1
