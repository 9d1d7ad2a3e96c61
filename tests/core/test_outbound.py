"""The outbound policy's rules, in-process against loopback servers (the worker-level proof
is tests/runner/test_outbound.py)."""

import socket
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from core import outbound
from core.actions.base import ActionContext
from core.actions.builtins.http import http_request
from core.errors import OutboundRefused
from tests.servers import HttpServer


def _ctx():
    return ActionContext(
        run_id=1, step_key="call", attempt=1, idempotency_key="1:call", deadline=time.time() + 10
    )


@pytest.fixture
def http(http_server):
    http_server.clear()
    return http_server


@pytest.fixture
def second_server():
    server = HttpServer()
    server.start()
    yield server
    server.stop()


def test_by_default_private_and_special_addresses_are_refused(settings):
    settings.OUTBOUND_ALLOW, settings.OUTBOUND_DENY = [], []
    for url, reason in [
        ("http://127.0.0.2/", "127.0.0.2 is loopback"),
        ("https://127.0.0.1:1/", "127.0.0.1 is loopback"),
        ("http://[::1]/", "::1 is loopback"),
        ("http://10.1.2.3/", "10.1.2.3 is private"),
        ("http://192.168.0.1/", "192.168.0.1 is private"),
        ("http://172.20.0.1/", "172.20.0.1 is private"),
        ("http://[fd12::1]/", "fd12::1 is unique-local"),
        ("http://[fe80::1]/", "fe80::1 is link-local"),
        ("http://169.254.169.254/", "169.254.169.254 is the cloud metadata address"),
        ("http://0.0.0.0/", "0.0.0.0 is unspecified"),
        ("http://224.0.0.1/", "224.0.0.1 is multicast"),
        ("http://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1 is an IPv4-mapped IPv6 address"),
    ]:
        with pytest.raises(OutboundRefused) as refused:
            http_request(_ctx(), {"url": url})
        assert str(refused.value) == f"refused: {reason} (set OUTBOUND_ALLOW to permit)"
        assert refused.value.retryable is False


def test_allow_takes_host_port_and_deny_wins_over_allow(http, settings):
    # Given only the server's own port is allowed
    settings.OUTBOUND_ALLOW, settings.OUTBOUND_DENY = [f"127.0.0.1:{http.port}"], []
    assert http_request(_ctx(), {"url": http.url + "/ok"})["status"] == 200
    with pytest.raises(OutboundRefused, match="127.0.0.1 is loopback"):
        http_request(_ctx(), {"url": f"http://127.0.0.1:{http.port + 1}/"})
    # When an explicit deny names the same address, it wins
    settings.OUTBOUND_DENY = ["127.0.0.0/8"]
    with pytest.raises(OutboundRefused) as refused:
        http_request(_ctx(), {"url": http.url + "/ok"})
    assert str(refused.value) == "refused: 127.0.0.1 is denied by OUTBOUND_DENY entry 127.0.0.0/8"
    assert [r["path"] for r in http.requests] == ["/ok"]


def test_an_allowed_host_name_is_trusted_with_what_it_resolves_to(http, settings):
    settings.OUTBOUND_ALLOW, settings.OUTBOUND_DENY = [f"localhost:{http.port}"], []
    assert http_request(_ctx(), {"url": f"http://localhost:{http.port}/"})["status"] == 200
    with pytest.raises(OutboundRefused, match="refused: 127.0.0.1 is loopback"):
        http_request(_ctx(), {"url": http.url})


def test_every_answer_of_the_lookup_is_checked_and_only_once(settings, monkeypatch):
    # Given a name that answers a public address and a loopback one (DNS is the network:
    # the only thing faked here)
    settings.OUTBOUND_ALLOW, settings.OUTBOUND_DENY = [], []
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(OutboundRefused) as refused:
        http_request(_ctx(), {"url": "http://rebind.test/"})
    assert str(refused.value).startswith("refused: rebind.test resolves to 127.0.0.1, which is")
    assert lookups == ["rebind.test"]


def test_credentials_do_not_follow_a_redirect_to_another_origin(http, second_server, settings):
    settings.OUTBOUND_ALLOW, settings.OUTBOUND_DENY = ["127.0.0.1"], []
    second_server.clear()
    http.respond("/away", [(302, {}, {"Location": second_server.url + "/landing"})])
    output = http_request(
        _ctx(), {"url": http.url + "/away", "headers": {"Authorization": "Bearer t0k"}}
    )
    assert output["status"] == 200
    assert http.requests[0]["headers"]["Authorization"] == "Bearer t0k"
    assert "Authorization" not in second_server.requests[0]["headers"]


@pytest.mark.parametrize(
    "entry, rule",
    [
        ("10.0.0.0/8", ("10.0.0.0/8", None, None)),
        ("127.0.0.1:8080", ("127.0.0.1/32", None, 8080)),
        ("[::1]:443", ("::1/128", None, 443)),
        ("fd00::/8", ("fd00::/8", None, None)),
        ("API.Example.com.", (None, "api.example.com", None)),
        ("partner.test:8443", (None, "partner.test", 8443)),
    ],
)
def test_rules_are_hosts_addresses_or_cidrs_with_an_optional_port(entry, rule):
    parsed = outbound.parse_rule("OUTBOUND_ALLOW", entry)
    network = str(parsed.network) if parsed.network else None
    assert (network, parsed.host, parsed.port) == rule


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "host:port", "a b", "127.0.0.1:70000", "-x-"])
def test_a_malformed_rule_stops_start_up(entry):
    with pytest.raises(ImproperlyConfigured, match="OUTBOUND_DENY"):
        outbound.parse_rule("OUTBOUND_DENY", entry)
