"""The Django admin: every model is registered, and history cannot be changed there."""

import pytest
from django.apps import apps
from django.contrib import admin

from runner.models import Run
from tests.web import compensated_run

pytestmark = pytest.mark.django_db

HISTORY = [
    "core.ActionVersion",
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

    run = compensated_run(workspace)
    Secret.objects.create(workspace=workspace, name="TOKEN", value="s3cr3t-value")
    key, raw = ApiKey.issue(workspace, "ci")
    for url in [
        "/admin/",
        "/admin/runner/run/",
        f"/admin/runner/run/{run.id}/change/",
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
        assert "s3cr3t-value" not in html and key.hashed not in html and raw not in html, url
    assert Run.objects.count() == 1
