from django.urls import path

from builder.views import (
    builder,
    runs,
    schedules,
    step_test,
    transfer,
    triggers,
    versions,
    workflows,
)

WF = "w/<slug:ws>/workflows/<slug:slug>/"

urlpatterns = [
    path("w/<slug:ws>/workflows/", workflows.workflow_list, name="workflow_list"),
    path(
        "w/<slug:ws>/starters/<slug:starter_slug>/",
        workflows.create_from_starter,
        name="workflow_from_starter",
    ),
    path(WF, builder.builder, name="workflow_builder"),
    path(WF + "archive/", workflows.archive_workflow, name="workflow_archive"),
    path(WF + "unarchive/", workflows.unarchive_workflow, name="workflow_unarchive"),
    path(WF + "delete/", workflows.delete_workflow, name="workflow_delete"),
    # HTMX regions and edits of the builder
    path(WF + "settings/", builder.settings_panel, name="builder_settings"),
    path(WF + "settings/save/", builder.save_settings, name="builder_save_settings"),
    path(WF + "steps/add/", builder.add_step, name="builder_add_step"),
    path(WF + "steps/order/", builder.reorder_steps, name="builder_reorder"),
    path(WF + "steps/<int:index>/", builder.step_panel, name="builder_step"),
    path(WF + "steps/<int:index>/save/", builder.save_step, name="builder_save_step"),
    path(WF + "steps/<int:index>/move/", builder.move_step, name="builder_move_step"),
    path(WF + "steps/<int:index>/remove/", builder.remove_step, name="builder_remove_step"),
    path(WF + "steps/<int:index>/connect/", builder.connect_dialog, name="builder_connect"),
    path(WF + "edges/", builder.link_steps, name="builder_link"),
    path(WF + "steps/<int:index>/test/", step_test.test_step, name="builder_test_step"),
    path("w/<slug:ws>/step-tests/<int:run_id>/", step_test.test_result, name="builder_test_result"),
    # Versions
    path(WF + "publish/", versions.publish, name="workflow_publish"),
    path(WF + "versions/", versions.versions, name="workflow_versions"),
    path(WF + "versions/<int:number>/", versions.version_detail, name="workflow_version"),
    path(WF + "versions/<int:number>/restore/", versions.restore_version, name="workflow_restore"),
    # Workflows as code
    path(WF + "export/", transfer.export, name="workflow_export"),
    path(WF + "import/", transfer.import_definition, name="workflow_import"),
    path(WF + "validate/", transfer.validate_definition, name="workflow_validate"),
    # Runs and triggers
    path(WF + "run/", runs.run_workflow, name="workflow_run"),
    path(WF + "triggers/", triggers.trigger_list, name="workflow_triggers"),
    path(WF + "triggers/live", triggers.trigger_deliveries_live, name="workflow_triggers_live"),
    path(WF + "schedules/", schedules.schedule_list, name="workflow_schedules"),
    path(WF + "schedules/preview/", schedules.schedule_preview, name="schedule_preview"),
    path(
        WF + "schedules/<int:schedule_id>/toggle/",
        schedules.toggle_schedule,
        name="schedule_toggle",
    ),
    path(
        WF + "schedules/<int:schedule_id>/delete/",
        schedules.delete_schedule,
        name="schedule_delete",
    ),
    path("w/<slug:ws>/schedules/", schedules.workspace_schedules, name="schedule_all"),
    path(WF + "triggers/<int:trigger_id>/toggle/", triggers.toggle_trigger, name="trigger_toggle"),
    path(WF + "triggers/<int:trigger_id>/rotate/", triggers.rotate_secret, name="trigger_rotate"),
    path(WF + "triggers/<int:trigger_id>/delete/", triggers.delete_trigger, name="trigger_delete"),
    path(WF + "triggers/<int:trigger_id>/test/", triggers.send_test_event, name="trigger_test"),
    path(
        WF + "triggers/<int:trigger_id>/deliveries/<int:delivery_id>/",
        triggers.delivery_detail,
        name="trigger_delivery",
    ),
    path(
        WF + "triggers/<int:trigger_id>/deliveries/<int:delivery_id>/replay/",
        triggers.replay_delivery,
        name="trigger_replay",
    ),
]
