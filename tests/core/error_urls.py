"""The project's URLs plus views that fail on purpose, for the error-page tests."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from core.urls import handler403, handler404, handler500
from core.urls import urlpatterns as project_urls

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def boom(request):
    raise RuntimeError("a detail only the log may see")


def forbidden(request):
    raise PermissionDenied("no")


urlpatterns = [
    path("test-errors/boom", boom),
    path("test-errors/forbidden", forbidden),
    path("api/v1/test-errors/boom", boom),
    *project_urls,
]
