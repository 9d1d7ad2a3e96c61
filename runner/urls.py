from django.urls import path

from runner.views import alerts, export, failures, items, limits, live, rerun, run, runs, waits

urlpatterns = [
    path("w/<slug:ws>/runs/", runs.run_list, name="run_list"),
    path("w/<slug:ws>/runs/live", live.run_list_live, name="run_list_live"),
    path("w/<slug:ws>/runs/export", export.run_export, name="run_export"),
    path("w/<slug:ws>/alerts/", alerts.alert_list, name="alert_list"),
    path("w/<slug:ws>/alerts/log", alerts.alert_log, name="alert_log"),
    path("w/<slug:ws>/alerts/new", alerts.alert_new, name="alert_new"),
    path("w/<slug:ws>/alerts/<int:rule_id>/", alerts.alert_edit, name="alert_edit"),
    path("w/<slug:ws>/alerts/<int:rule_id>/test", alerts.alert_test, name="alert_test"),
    path("w/<slug:ws>/alerts/<int:rule_id>/delete", alerts.alert_delete, name="alert_delete"),
    path("w/<slug:ws>/runs/<int:run_id>/", run.run_detail, name="run_detail"),
    path("w/<slug:ws>/runs/<int:run_id>/timeline", run.run_timeline, name="run_timeline"),
    path("w/<slug:ws>/runs/<int:run_id>/io", run.run_io, name="run_io"),
    path("w/<slug:ws>/runs/<int:run_id>/step", run.step_detail, name="run_step"),
    path("w/<slug:ws>/runs/<int:run_id>/items/<str:key>/", items.item_list, name="run_items"),
    path("w/<slug:ws>/runs/<int:run_id>/attempt", run.attempt_detail, name="run_attempt"),
    path("w/<slug:ws>/runs/<int:run_id>/cancel", run.run_cancel, name="run_cancel"),
    path("w/<slug:ws>/runs/<int:run_id>/keep", run.run_keep, name="run_keep"),
    path("w/<slug:ws>/runs/<int:run_id>/decide", waits.run_decide, name="run_decide"),
    path("w/<slug:ws>/waiting/", waits.waiting_list, name="waiting_list"),
    path("w/<slug:ws>/runs/<int:run_id>/rerun", rerun.run_rerun, name="run_rerun"),
    path(
        "w/<slug:ws>/runs/<int:run_id>/rerun/ledger",
        rerun.run_rerun_ledger,
        name="run_rerun_ledger",
    ),
    path("w/<slug:ws>/failures/", failures.failure_list, name="failure_list"),
    path("w/<slug:ws>/failures/live", live.failure_list_live, name="failure_list_live"),
    path("w/<slug:ws>/failures/bulk", failures.failure_bulk, name="failure_bulk"),
    path("w/<slug:ws>/limits/", limits.limit_list, name="limit_list"),
    path("w/<slug:ws>/limits/<int:limit_id>/delete", limits.limit_delete, name="limit_delete"),
]
