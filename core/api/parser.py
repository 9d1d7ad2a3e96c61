"""Request bodies for django-ninja: at most 1 MiB of strict JSON (see core/jsonbody.py)."""

from django.conf import settings
from ninja.parser import Parser

from core import jsonbody
from core.api.errors import ApiError


class StrictParser(Parser):
    def parse_body(self, request):
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > settings.MAX_REQUEST_BYTES:
            raise ApiError(413, "The body is over 1 MiB")
        if len(request.body) > settings.MAX_REQUEST_BYTES:
            raise ApiError(413, "The body is over 1 MiB")
        try:
            return jsonbody.parse(request.body)
        except jsonbody.MalformedJSON as error:
            raise ApiError(400, f"The body is malformed: {error}")
