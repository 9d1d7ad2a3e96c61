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

# Error pages in the product's look; JSON under /api/ (core/web/errors.py).
handler404 = "core.web.errors.page_not_found"
handler403 = "core.web.errors.permission_denied"
handler500 = "core.web.errors.server_error"
