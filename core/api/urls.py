"""`/api/v1/`: the API's routes, then a JSON 404 for every other path under it."""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from core.api import api
from core.api.errors import error_response


@csrf_exempt
def not_found(request, rest=""):
    return error_response(404, "No such endpoint; see /api/v1/docs")


urlpatterns = [
    path("", api.urls),
    re_path(r"^(?P<rest>.*)$", not_found),
]
