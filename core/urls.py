from django.contrib import admin
from django.urls import include, path

from core.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # The JSON API (/api/v1/), webhooks (/hooks/) and /metrics are added here.
    path("", include("builder.urls")),
    path("", include("runner.urls")),
    path("", include("core.web.urls")),
]
