"""A body over the limit is answered 413 and the connection is closed, announced with
`Connection: close`: against gunicorn started as `make run` starts it, over raw sockets."""

import os
import socket
import subprocess
import time
import urllib.request

import pytest
from django.conf import settings

from builder.definition import validate
from builder.models import Trigger, Workflow
from core.management.commands.up import gunicorn_command
from core.models import ApiKey
from tests import servers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def web(django_db_setup):
    """gunicorn with `make run`'s command line, on the test database; its base address."""
    port = servers.free_port()
    env = {**os.environ, "DATABASE_URL": servers.test_database_url()}
    env |= {"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONUNBUFFERED": "1"}
    log_path = servers.ROOT / ".run" / f"test-gunicorn-{os.getpid()}.log"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            gunicorn_command(port), cwd=servers.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "no gunicorn"
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


def exchange(sock, method, path, body=b"", headers=()):
    """Send one request; return (status line, headers) of the answer, its body read."""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    sock.sendall(("\r\n".join([*head, *headers]) + "\r\n\r\n").encode() + body)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    raw_head, _, rest = data.partition(b"\r\n\r\n")
    lines = raw_head.decode().split("\r\n")
    answer = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(rest) < int(answer.get("content-length", 0)):
        rest += sock.recv(65536)
    return lines[0], answer


def closed_by_server(sock):
    """True once the server has closed its end (EOF, or a reset of the unread body)."""
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def too_large():
    return b"{" + b" " * settings.MAX_REQUEST_BYTES + b"}"


def test_an_api_body_over_the_limit_is_413_and_closes_the_connection(web, workspace):
    key = ApiKey.issue(workspace, "t")[1]
    auth = f"Authorization: Bearer {key}"
    with socket.create_connection(("127.0.0.1", web), timeout=10) as sock:
        # Given a keep-alive connection that served a request with a body
        status, answer = exchange(sock, "POST", "/api/v1/workflows/nope/runs", b"{}", [auth])
        assert status.endswith("404 Not Found") and answer["connection"] == "keep-alive"
        # When a body one byte over the limit is sent on it
        status, answer = exchange(sock, "POST", "/api/v1/workflows/nope/runs", too_large(), [auth])
        # Then the answer is 413, says the connection closes, and the server closes it
        assert status.endswith("413 Request Entity Too Large")
        assert answer["connection"] == "close"
        assert closed_by_server(sock)


def test_a_webhook_body_over_the_limit_is_413_and_closes_the_connection(web, workspace):
    workflow = Workflow.objects.create(workspace=workspace, slug="hook", name="Hook")
    workflow.publish(validate({"steps": [{"key": "a", "action": "debug.echo"}]}, workspace))
    trigger = Trigger.objects.create(workflow=workflow, token=Trigger.new_token())
    with socket.create_connection(("127.0.0.1", web), timeout=10) as sock:
        status, answer = exchange(sock, "POST", f"/hooks/{trigger.token}", too_large())
        assert status.endswith("413 Request Entity Too Large")
        assert answer["connection"] == "close"
        assert closed_by_server(sock)
    # And a fresh connection is served as usual
    with socket.create_connection(("127.0.0.1", web), timeout=10) as sock:
        status, answer = exchange(sock, "GET", "/login/")
        assert status.endswith("200 OK") and answer["connection"] == "keep-alive"
        status, _ = exchange(sock, "GET", "/login/")
        assert status.endswith("200 OK")
