"""Bad input gets the right status in the one error shape, never a 500."""

import time

import pytest
from django.test import override_settings

from runner.models import Run
from tests.api import error_of

pytestmark = pytest.mark.django_db
ECHO = "/actions/debug.echo/run"


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        "not json",
        '{"input": NaN}',
        '{"input": {"n": Infinity}}',
        '{"input": {"n": 1e400}}',
        '{"input": {"text": "a\\u0000b"}}',
        '{"input": {"text": "\\ud800"}}',
        '{"input": {"a": ' + "[" * 100 + "]" * 100 + "}}",
        b'{"input": {"text": "\xff"}}',
    ],
)
def test_malformed_or_unstorable_json_is_400(api, raw):
    response = api.post(ECHO, raw=raw)
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "malformed"
    assert not Run.objects.exists()


def test_a_body_over_1_mib_is_413(api):
    raw = '{"input": {"text": "' + "x" * (1024 * 1024) + '"}}'
    response = api.post(ECHO, raw=raw)
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    far_too_large = api.post(ECHO, raw=raw + " " * (1024 * 1024))
    assert far_too_large.status_code == 413
    assert not Run.objects.exists()


def test_unknown_endpoints_answer_404_in_the_error_shape(api):
    for method in ("GET", "POST", "DELETE"):
        response = api.call(method, "/nothing/here")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_too_many_requests_is_429(api):
    if time.time() % 60 > 58:
        time.sleep(2.5)  # the counts start again with each minute: stay inside one
    with override_settings(API_RATE_LIMIT_PER_MINUTE=3):
        statuses = [api.get("/actions").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = api.get("/actions")
        assert error_of(response)["code"] == "rate_limited"
        assert 0 < int(response["Retry-After"]) <= 60


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("DELETE", "/actions", "GET, POST"),
        ("POST", "/runs", "GET"),
        ("PUT", "/runs/1", "GET"),
        ("GET", "/actions/debug.echo/run", "POST"),
        ("PATCH", "/workflows/onboarding", "DELETE, GET, PUT"),
    ],
)
def test_a_wrong_method_is_405_in_the_error_shape(api, method, path, allowed):
    response = api.call(method, path)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    error = error_of(response)
    assert error["code"] == "method_not_allowed" and allowed in error["message"]
    assert response["Allow"] == allowed


def test_malformed_json_says_why_once(api):
    message = error_of(api.post(ECHO, raw="{"))["message"]
    assert message.startswith("The body is malformed: not valid JSON: ")
    assert message.count("not valid JSON") == 1
