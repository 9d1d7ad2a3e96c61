"""`/api/v1/`: the API's routes, then a JSON 404 for every other path under it."""

from functools import wraps

from django.http import HttpResponseNotAllowed
from django.urls import URLPattern, path, re_path
from django.views.decorators.csrf import csrf_exempt

from core.api import api
from core.api.errors import error_response


@csrf_exempt
def not_found(request, rest=""):
    return error_response(404, "No such endpoint; see /api/v1/docs")


def json_405(view):
    """django-ninja answers a method a path does not take with a plain-text 405; a client
    of this API gets the error shape instead, with the `Allow` header kept."""

    @wraps(view)  # keeps csrf_exempt: the API authenticates with keys, not cookies
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        allowed = ", ".join(sorted(response["Allow"].split(", ")))
        answer = error_response(405, f"{request.method} is not allowed here; use {allowed}")
        answer["Allow"] = allowed
        return answer

    return wrapper


def _routes():
    patterns, app_name, namespace = api.urls
    wrapped = [
        URLPattern(p.pattern, json_405(p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern)
        else p
        for p in patterns
    ]
    return wrapped, app_name, namespace


urlpatterns = [
    path("", _routes()),
    re_path(r"^(?P<rest>.*)$", not_found),
]
