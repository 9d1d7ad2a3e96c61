"""Helpers for API tests: a JSON client over Django's test client, the error shape."""

import json


class Api:
    """Django's test client, speaking JSON to /api/v1 with a bearer key."""

    def __init__(self, client, key):
        self.client, self.key = client, key

    def call(self, method, path, body=None, *, raw=None, headers=None, key=None):
        headers = {"Authorization": f"Bearer {key or self.key}", **(headers or {})}
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        kwargs = {"headers": headers}
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        return getattr(self.client, method.lower())(f"/api/v1{path}", **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.call("POST", path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.call("PUT", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)


def error_of(response):
    """The `error` object of an error answer, after checking the shape every error has."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


ECHO_WORKFLOW = {
    "name": "Echo twice",
    "input_schema": {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
    },
    "steps": [
        {"key": "first", "action": "debug.echo", "input": {"n": "{{ input.n }}"}},
        {"key": "second", "action": "debug.echo", "input": {"m": "{{ steps.first.output.n }}"}},
    ],
}
