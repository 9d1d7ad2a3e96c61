"""Unknown query parameters are refused with a 422, as the API refuses unknown fields
elsewhere: a typo such as `?stauts=failed` must not quietly list every run."""

import functools
import re

from core.api.errors import error_response

PREFIX = "/api/v1/"


def strict_query(get_response):
    def middleware(request):
        if request.GET and request.path.startswith(PREFIX):
            allowed = _allowed(request.method.lower(), request.path)
            unknown = sorted(set(request.GET) - allowed) if allowed is not None else []
            if unknown:
                return error_response(
                    422,
                    "Unknown query parameter: " + ", ".join(repr(name) for name in unknown),
                    fields={name: ["is not a parameter of this operation"] for name in unknown},
                )
        return get_response(request)

    return middleware


def _allowed(method, path):
    """The query parameter names the OpenAPI document declares; None off the document."""
    for pattern, operations in _operations():
        if pattern.fullmatch(path):
            return operations.get(method)
    return None


@functools.cache
def _operations():
    from core.api import api

    found = []
    for template, operations in api.get_openapi_schema()["paths"].items():
        pattern = re.compile(re.sub(r"\{[^}]+\}", "[^/]+", template))  # [a-z0-9/_{}-] only
        names = {
            method: frozenset(p["name"] for p in spec.get("parameters", []) if p["in"] == "query")
            for method, spec in operations.items()
        }
        found.append((pattern, names))
    return tuple(found)
