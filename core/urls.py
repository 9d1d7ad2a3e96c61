from django.contrib import admin
from django.urls import include, path

from builder import webhooks
from core.health import healthz
from runner.metrics import metrics

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # The JSON API (/api/v1/), webhooks (/hooks/) and /metrics are added here.
    path("api/v1/", include("core.api.urls")),
    path("hooks/<str:token>", webhooks.receive, name="webhook"),
    path("metrics", metrics, name="metrics"),
    path("", include("builder.urls")),
    path("", include("runner.urls")),
    path("", include("core.web.urls")),
]
