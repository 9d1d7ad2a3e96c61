"""Actions run with the worker's rights: a real worker refuses what the outbound policy denies.

The worker here is started with OUTBOUND_ALLOW naming one port of loopback (the suite's
HTTP server), so a second loopback server stands for everything a hostile workflow could
aim at: the app's own endpoints, a database, a metadata service.
"""

import ipaddress
import json
import socket

import pytest

from core.actions.custom import save_custom_action
from core.models import Secret
from tests import servers
from tests.runs import attempts_of, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "tok_outbound_4242"


def loopback_names():
    """`localhost` and the other names the hosts file points at loopback (no outside DNS)."""
    names = {"localhost"}
    with open("/etc/hosts") as hosts:
        for line in hosts:
            fields = line.split("#")[0].split()
            if len(fields) > 1 and _is_loopback(fields[0]):
                names.update(name for name in fields[1:] if _resolves_to_loopback(name))
    return sorted(names)


def _is_loopback(text):
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _resolves_to_loopback(name):
    try:
        return all(_is_loopback(info[4][0]) for info in socket.getaddrinfo(name, 80))
    except OSError:
        return False


@pytest.fixture(scope="module")
def denied_server():
    server = servers.HttpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def strict_worker(_worker_process, transactional_db, http_server, denied_server):
    """A worker allowed to reach the suite's HTTP server's port on loopback, and nothing else
    the default policy denies. The shared worker steps aside so this one takes the messages."""
    _worker_process.stop()
    worker = servers.WorkerProcess(
        database_url=servers.test_database_url(),
        extra_env={"OUTBOUND_ALLOW": f"127.0.0.1:{http_server.port}", "OUTBOUND_DENY": ""},
    )
    worker.start()
    worker.wait_ready()
    http_server.clear()
    denied_server.clear()
    yield worker
    worker.stop()


def refusals(http_server, denied_server):
    """(name, URL, what the error must say) for destinations the policy must refuse."""
    port = denied_server.port
    http_server.respond("/hop", [(302, {}, {"Location": f"{denied_server.url}/landing"})])
    cases = [
        ("file", "file:///etc/passwd", "refused: file: URLs are not allowed"),
        ("ftp", f"ftp://127.0.0.1:{port}/x", "refused: ftp: URLs are not allowed"),
        ("loopback", f"http://127.0.0.1:{port}/metrics", "refused: 127.0.0.1 is loopback"),
        (
            "metadata",
            "http://169.254.169.254/latest/meta-data/",
            "refused: 169.254.169.254 is the cloud metadata address",
        ),
        (
            "mapped",
            f"http://[::ffff:127.0.0.1]:{port}/",
            "refused: ::ffff:127.0.0.1 is an IPv4-mapped IPv6 address",
        ),
        ("redirect", f"{http_server.url}/hop", "refused: 127.0.0.1 is loopback"),
    ]
    for name in loopback_names():
        cases.append((f"name-{name}", f"http://{name}:{port}/", f"refused: {name} resolves to"))
    return cases


def test_denied_destinations_are_refused_through_builtin_and_custom_actions(
    strict_worker, workspace, http_server, denied_server
):
    # Given a secret, and a custom HTTP action whose URL is its input (with and without a secret)
    Secret.set(workspace, "TOKEN", TOKEN)
    save_custom_action(
        workspace, name="hostile.fetch", kind="http", config={"url": "{{ input.url }}"}
    )
    save_custom_action(
        workspace,
        name="hostile.fetch_keyed",
        kind="http",
        config={"url": "{{ input.url }}?key={{ secrets.TOKEN }}"},
    )
    # When runs aim the built-in and the custom actions at each denied destination
    runs = {}
    for name, url, expected in refusals(http_server, denied_server):
        steps = {
            "builtin": {"action": "http.request", "input": {"url": "{{ input.url }}"}},
            "builtin+secret": {
                "action": "http.request",
                "input": {"url": url + "#{{ secrets.TOKEN }}"},
            },
            "custom": {"action": "hostile.fetch", "input": {"url": url}},
            "custom+secret": {"action": "hostile.fetch_keyed", "input": {"url": url}},
        }
        for how, step in steps.items():
            run = start(workspace, [{"key": "call", **step}], input={"url": url})
            if how == "builtin" and name in ("file", "ftp"):
                # refused before any worker sees it: the action's schema wants http(s)
                runs[name, how] = (run, "does not match '^https?://'")
            else:
                runs[name, how] = (run, expected)
    # Then each fails at its first attempt, saying which rule refused it, and nothing arrived
    for (name, how), (run, expected) in runs.items():
        run = wait_for(run)
        step = run.steps.get(key="call")
        assert run.status == "failed", (name, how, run.status)
        assert expected in json.dumps(step.error), (name, how, step.error)
        assert step.error["retryable"] is False, (name, how, step.error)
        assert len(attempts_of(run, "call")) <= 1, (name, how)  # never a second attempt
        assert TOKEN not in str(step.error)
    assert denied_server.requests == []
    hops = [request["path"].split("?")[0] for request in http_server.requests]
    assert hops == ["/hop"] * 4  # the allowed first hop of each redirect case, no more


def test_a_destination_allowed_by_outbound_allow_works(strict_worker, workspace, http_server):
    # Given the worker allows the suite's server (127.0.0.1:<its port>)
    Secret.set(workspace, "TOKEN", TOKEN)
    save_custom_action(
        workspace,
        name="partner.fetch",
        kind="http",
        config={"url": "{{ input.url }}?key={{ secrets.TOKEN }}"},
    )
    # When the built-in and the custom action call it, one with a secret in its URL
    builtin = start(
        workspace,
        [
            {
                "key": "call",
                "action": "http.request",
                "input": {"url": http_server.url + "/builtin?key={{ secrets.TOKEN }}"},
            }
        ],
    )
    custom = start(
        workspace,
        [{"key": "call", "action": "partner.fetch", "input": {"url": http_server.url + "/custom"}}],
    )
    # Then both succeed and the server got the requests with the secret filled in
    for run in (builtin, custom):
        run = wait_for(run)
        assert run.status == "succeeded", run.error
    paths = sorted(request["path"] for request in http_server.requests)
    assert paths == [f"/builtin?key={TOKEN}", f"/custom?key={TOKEN}"]
