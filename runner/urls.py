from django.urls import path

from runner.views import failures, limits, rerun, run, runs

urlpatterns = [
    path("w/<slug:ws>/runs/", runs.run_list, name="run_list"),
    path("w/<slug:ws>/runs/<int:run_id>/", run.run_detail, name="run_detail"),
    path("w/<slug:ws>/runs/<int:run_id>/timeline", run.run_timeline, name="run_timeline"),
    path("w/<slug:ws>/runs/<int:run_id>/step", run.step_detail, name="run_step"),
    path("w/<slug:ws>/runs/<int:run_id>/attempt", run.attempt_detail, name="run_attempt"),
    path("w/<slug:ws>/runs/<int:run_id>/cancel", run.run_cancel, name="run_cancel"),
    path("w/<slug:ws>/runs/<int:run_id>/rerun", rerun.run_rerun, name="run_rerun"),
    path("w/<slug:ws>/failures/", failures.failure_list, name="failure_list"),
    path("w/<slug:ws>/failures/bulk", failures.failure_bulk, name="failure_bulk"),
    path("w/<slug:ws>/limits/", limits.limit_list, name="limit_list"),
    path("w/<slug:ws>/limits/<int:limit_id>/delete", limits.limit_delete, name="limit_delete"),
]
