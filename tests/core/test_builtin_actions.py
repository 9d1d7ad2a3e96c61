"""Built-in actions against real servers on loopback (HTTP, SMTP) and a real subprocess."""

import sys
import time

import pytest

from core.actions.base import ActionContext
from core.actions.builtins.email import send_email
from core.actions.builtins.http import http_request
from core.actions.execute import run_http_template, run_script
from core.errors import ActionError, AttemptTimeout, NonRetryable


def _ctx(attempt=1, seconds=10):
    return ActionContext(
        run_id=41, step_key="call", attempt=attempt, idempotency_key="41:call",
        deadline=time.time() + seconds,
    )  # fmt: skip


@pytest.fixture
def http(http_server):
    http_server.clear()
    return http_server


def test_http_request_sends_the_idempotency_key_and_parses_json(http):
    http.respond("/users", [(201, {"id": 7}, {"X-Trace": "abc"})])
    output = http_request(
        _ctx(), {"method": "POST", "url": f"{http.url}/users", "json": {"email": "a@b.c"}}
    )
    assert output["status"] == 201
    assert output["body"] == {"id": 7}
    assert output["headers"]["X-Trace"] == "abc"
    sent = http.requests[-1]
    assert sent["headers"]["Idempotency-Key"] == "41:call"
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sent["body"] == '{"email": "a@b.c"}'


@pytest.mark.parametrize("status", [400, 404, 422])
def test_http_4xx_is_not_retryable(http, status):
    http.respond("/x", [(status, {"error": "no"}, {})])
    with pytest.raises(NonRetryable) as failed:
        http_request(_ctx(), {"url": f"{http.url}/x"})
    assert f"HTTP {status}" in str(failed.value)
    assert failed.value.details["body"] == {"error": "no"}


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_http_408_429_and_5xx_are_retryable_and_honour_retry_after(http, status):
    http.respond("/busy", [(status, {}, {"Retry-After": "3"})])
    with pytest.raises(ActionError) as failed:
        http_request(_ctx(), {"url": f"{http.url}/busy"})
    assert failed.value.retryable is True
    assert failed.value.retry_after == 3.0


def test_http_connection_refused_is_retryable():
    with pytest.raises(ActionError) as failed:
        http_request(_ctx(), {"url": "http://127.0.0.1:9/"})
    assert failed.value.retryable


def test_http_template_action_fills_the_request_from_the_input(http):
    config = {
        "method": "PUT",
        "url": http.url + "/crm/{{ input.id }}",
        "json": {"name": "{{ input.name }}", "tags": "{{ input.tags }}"},
    }
    run_http_template(config, _ctx(), {"id": 5, "name": "Ada", "tags": ["x"]})
    sent = http.requests[-1]
    assert (sent["method"], sent["path"]) == ("PUT", "/crm/5")
    assert sent["body"] == '{"name": "Ada", "tags": ["x"]}'


def test_email_is_delivered_with_a_message_id_from_the_idempotency_key(smtp_server, settings):
    smtp_server.clear()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_server.port},
        }
    }
    output = send_email(_ctx(), {"to": "ada@example.com", "subject": "Hi", "body": "Welcome"})
    assert [m.rcpt_tos for m in smtp_server.messages] == [["ada@example.com"]]
    assert output["message_id"] in smtp_server.messages[0].content.decode()
    again = send_email(_ctx(attempt=2), {"to": "ada@example.com", "subject": "Hi", "body": "x"})
    assert again["message_id"] == output["message_id"]


def test_email_refused_by_the_server_is_retryable(smtp_server, settings):
    smtp_server.clear()
    smtp_server.drop_next(1)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_server.port},
        }
    }
    with pytest.raises(ActionError) as failed:
        send_email(_ctx(), {"to": "ada@example.com", "subject": "Hi", "body": "x"})
    assert failed.value.retryable
    assert smtp_server.messages == []


def test_script_gets_json_on_stdin_and_returns_json():
    code = "import json,sys; data=json.load(sys.stdin); print(json.dumps({'twice': data['n']*2}))"
    assert run_script({"command": [sys.executable, "-c", code]}, _ctx(), {"n": 21}) == {"twice": 42}


def test_script_input_never_reaches_a_shell(tmp_path):
    marker = tmp_path / "pwned"
    code = "import json,sys; print(json.dumps(json.load(sys.stdin)))"
    evil = {"name": f"$(touch {marker}); `touch {marker}`"}
    assert run_script({"command": [sys.executable, "-c", code]}, _ctx(), evil) == evil
    assert not marker.exists()


def test_script_exit_codes_decide_retryability():
    fail = [sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"]
    with pytest.raises(ActionError) as failed:
        run_script({"command": fail}, _ctx(), {})
    assert failed.value.retryable and "boom" in str(failed.value)
    bad_data = [sys.executable, "-c", "import sys; sys.exit(65)"]
    with pytest.raises(NonRetryable):
        run_script({"command": bad_data}, _ctx(), {})


def test_script_past_its_deadline_times_out():
    slow = [sys.executable, "-c", "import time; time.sleep(5)"]
    with pytest.raises(AttemptTimeout):
        run_script({"command": slow}, _ctx(seconds=0.3), {})
