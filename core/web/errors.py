"""The error pages: 404, 403, 500 and a failed CSRF check, in the product's own look.

They render without the request (no context processors), so the 500 page draws even when
the database that the sidebar's processors read is down. Under /api/ the same statuses
answer with the API's JSON error shape, whatever raised them.
"""

from django.http import HttpResponse
from django.template import loader

from core.api.errors import error_response

API_PREFIX = "/api/"


def page_not_found(request, exception=None):
    if _is_api(request):
        return error_response(404, "No such endpoint; see /api/v1/docs")
    return _page("errors/404.html", 404)


def permission_denied(request, exception=None):
    if _is_api(request):
        return error_response(403, "Forbidden", code="forbidden")
    return _page("errors/403.html", 403)


def server_error(request):
    if _is_api(request):
        return error_response(500, "Internal error", code="internal")
    return _page("errors/500.html", 500)


def csrf_failure(request, reason=""):
    """Django's CSRF check refused a form: most often a page left open past its session."""
    if _is_api(request):
        return error_response(403, "CSRF check failed", code="forbidden")
    return _page("errors/csrf.html", 403)


def _is_api(request):
    return request.path.startswith(API_PREFIX)


def _page(template_name, status):
    return HttpResponse(loader.get_template(template_name).render(), status=status)
