"""Every API error answers `{"error": {"code", "message", "fields"}}` with its HTTP status.

`install(api)` maps each kind of failure to one status: malformed JSON 400, no or bad key
401, a key whose role may not do it 403, another workspace's object 404, a conflict 409,
a body over the limit 413, invalid input 422 (with the field errors of the definition
validator or the action's schema), too many requests 429. Anything else is our bug: 500, logged, with no details.
"""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from core.errors import FieldErrors, InvalidTransition

log = logging.getLogger(__name__)

CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
}


class ApiError(Exception):
    def __init__(self, status, message, *, code=None, fields=None):
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.fields = fields or {}


def error_response(status, message, *, code=None, fields=None):
    body = {"code": code or CODES.get(status, "error"), "message": message, "fields": fields or {}}
    return JsonResponse({"error": body}, status=status)


def install(api):
    api.add_exception_handler(ApiError, _api_error)
    api.add_exception_handler(FieldErrors, _field_errors)
    api.add_exception_handler(InvalidTransition, _invalid_transition)
    api.add_exception_handler(ValidationError, _validation_error)
    api.add_exception_handler(AuthenticationError, _unauthorized)
    api.add_exception_handler(Throttled, _throttled)
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(RequestDataTooBig, _too_large)
    api.add_exception_handler(Exception, _server_error)


def _api_error(request, exc):
    return error_response(exc.status, exc.message, code=exc.code, fields=exc.fields)


def _field_errors(request, exc):
    return error_response(422, exc.message, fields=exc.fields)


def _invalid_transition(request, exc):
    return error_response(409, str(exc), code="invalid_transition")


def _validation_error(request, exc):
    fields = {}
    for error in exc.errors:
        fields.setdefault(_field_path(error.get("loc", ())), []).append(error.get("msg", "invalid"))
    return error_response(422, "The request is invalid", fields=fields)


def _field_path(loc):
    """("body", "payload", "input", "to") -> "input.to"; ("query", "limit") -> "limit"."""
    source, *rest = loc or ("body",)
    if source == "body":
        rest = rest[1:]  # the name of the view's body parameter means nothing to a client
    return ".".join(str(part) for part in rest) or str(source)


def _unauthorized(request, exc):
    response = error_response(401, "A valid API key is required: Authorization: Bearer <key>")
    response["WWW-Authenticate"] = 'Bearer realm="brickwork"'
    return response


def _throttled(request, exc):
    return error_response(429, "Too many requests for this API key; slow down")


def _http_error(request, exc):
    # The body parser's own errors arrive wrapped by django-ninja as a 400 "cannot parse".
    if isinstance(exc.__cause__, ApiError):
        return _api_error(request, exc.__cause__)
    if isinstance(exc.__cause__, RequestDataTooBig):
        return _too_large(request, exc.__cause__)
    return error_response(exc.status_code, str(exc))


def _not_found(request, exc):
    return error_response(404, "Not found")


def _too_large(request, exc):
    return error_response(413, "The body is over 1 MiB")


def _server_error(request, exc):
    log.exception("API error on %s %s", request.method, request.path)
    return error_response(500, "Internal error", code="internal")
