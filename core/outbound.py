"""Where actions may send requests: the outbound-request policy.

Anyone who can sign up can define workflows, and their requests leave from our workers,
which can reach what the internet cannot (loopback services, private networks, the cloud
metadata address). So every request an action makes goes through `opener()`:

1. Only http and https: the opener has no handler for file:, ftp: or data: URLs.
2. The host is resolved once, every address getaddrinfo answers is checked, and the socket
   connects to a checked address (a second lookup could answer differently: DNS rebinding).
3. Every redirect hop is checked the same way before it is followed.

Rules, in order: an OUTBOUND_DENY entry refuses; an OUTBOUND_ALLOW entry permits; else the
default deny list (loopback, private, link-local, metadata, ...) refuses. Entries are host
names, addresses or CIDRs, each optionally with `:port` (`[v6]:port` for IPv6).

e-mail is not covered: its SMTP server comes from EMAIL_URL, set by the operator, never by
a workflow.
"""

import functools
import http.client
import ipaddress
import re
import socket
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.errors import ActionError, OutboundRefused

SCHEMES = ("http", "https")
HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")

# Refused unless allowed, first match names the reason. The metadata address comes before
# link-local, which contains it, so the message says what was really at stake.
DEFAULT_DENY = [
    (ipaddress.ip_network(network), reason)
    for network, reason in [
        ("169.254.169.254/32", "the cloud metadata address"),
        ("fd00:ec2::254/128", "the cloud metadata address"),
        ("::ffff:0:0/96", "an IPv4-mapped IPv6 address"),
        ("64:ff9b::/96", "an IPv4-translated IPv6 address"),
        ("0.0.0.0/8", "unspecified"),
        ("::/128", "unspecified"),
        ("127.0.0.0/8", "loopback"),
        ("::1/128", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("fe80::/10", "link-local"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("100.64.0.0/10", "private (carrier-grade NAT)"),
        ("fc00::/7", "unique-local"),
        ("224.0.0.0/4", "multicast"),
        ("ff00::/8", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::/96", "an IPv4-compatible IPv6 address"),
    ]
]


@dataclass(frozen=True)
class Rule:
    """One OUTBOUND_ALLOW / OUTBOUND_DENY entry: a network or a host name, maybe a port."""

    text: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    host: str | None
    port: int | None

    def matches(self, hostname, address, port):
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address.version == self.network.version and address in self.network
        return hostname == self.host


def parse_rule(setting, text):
    """`10.0.0.0/8`, `127.0.0.1:8080`, `[::1]:80`, `api.example.com:443`; else ImproperlyConfigured."""
    entry, port = text.strip().lower(), None
    if match := re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", entry):
        entry, port = match[1], match[2]
    elif entry.count(":") == 1:
        entry, port = entry.split(":")
    try:
        port = int(port) if port is not None else None
        if port is not None and not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(f"{setting}: {text!r} has a bad port")
    try:
        return Rule(text, ipaddress.ip_network(entry, strict=False), None, port)
    except ValueError:
        pass
    if not HOST_NAME.match(entry.rstrip(".")):
        raise ImproperlyConfigured(f"{setting}: {text!r} is not a host, address or CIDR")
    return Rule(text, None, entry.rstrip("."), port)


@functools.cache
def _rules(allow, deny):
    return (
        [parse_rule("OUTBOUND_ALLOW", text) for text in allow if text.strip()],
        [parse_rule("OUTBOUND_DENY", text) for text in deny if text.strip()],
    )


def rules():
    """(allow, deny) from the settings; a malformed entry raises ImproperlyConfigured."""
    return _rules(tuple(settings.OUTBOUND_ALLOW), tuple(settings.OUTBOUND_DENY))


def check_address(hostname, address, port):
    """Raise OutboundRefused when the policy refuses `address:port`, reached as `hostname`."""
    allow, deny = rules()
    hostname = hostname.lower().rstrip(".")
    shown = (
        hostname if _literal(hostname) == address else f"{hostname} resolves to {address}, which"
    )
    embedded = [address, address.ipv4_mapped] if address.version == 6 else [address]
    for rule in deny:
        if any(each and rule.matches(hostname, each, port) for each in embedded):
            raise OutboundRefused(f"refused: {shown} is denied by OUTBOUND_DENY entry {rule.text}")
    if any(rule.matches(hostname, address, port) for rule in allow):
        return
    for network, reason in DEFAULT_DENY:
        if address.version == network.version and address in network:
            raise OutboundRefused(f"refused: {shown} is {reason} (set OUTBOUND_ALLOW to permit)")


def _literal(hostname):
    try:
        return ipaddress.ip_address(hostname)
    except ValueError:
        return None


def check_url(url):
    """Refuse a URL that is not http(s) or has no host (addresses are checked at connect)."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        raise OutboundRefused("refused: the URL is malformed")
    scheme = parts.scheme.lower()
    if not scheme:
        raise OutboundRefused("refused: the URL has no scheme (only http and https)")
    if scheme not in SCHEMES:
        raise OutboundRefused(f"refused: {scheme}: URLs are not allowed (only http and https)")
    if not parts.hostname:
        raise OutboundRefused("refused: the URL has no host")


def connect(host, port, timeout, source_address=None):
    """Resolve `host` once, check every answer, then connect to a checked address."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ActionError(f"{host} could not be resolved: {error}")
    for *_, sockaddr in answers:
        check_address(host, ipaddress.ip_address(sockaddr[0].split("%")[0]), port)
    last_error = None
    for family, kind, proto, _, sockaddr in answers:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as error:
            sock.close()
            last_error = error
    raise last_error


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = lambda address, *rest: connect(*address, *rest)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = lambda address, *rest: connect(*address, *rest)


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, request):
        return self.do_open(_CheckedHTTPConnection, request)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, request):
        return self.do_open(_CheckedHTTPSConnection, request, context=self._context)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Checks each hop; credentials are not carried to another origin."""

    def redirect_request(self, request, fp, code, msg, headers, newurl):
        check_url(newurl)
        new = super().redirect_request(request, fp, code, msg, headers, newurl)
        if new is not None and _origin(newurl) != _origin(request.full_url):
            for name in ("Authorization", "Cookie", "Proxy-authorization"):
                new.headers.pop(name, None)
                new.unredirected_hdrs.pop(name, None)
        return new


class _OtherSchemes(urllib.request.BaseHandler):
    def unknown_open(self, request):
        check_url(request.full_url)
        raise OutboundRefused("refused: only http and https URLs are allowed")


def _origin(url):
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.hostname, parts.port


def opener():
    """A urllib opener that speaks http and https only, through the policy; no proxies."""
    director = urllib.request.OpenerDirector()
    for handler in (
        _HTTPHandler(),
        _HTTPSHandler(),
        _RedirectHandler(),
        _OtherSchemes(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        director.add_handler(handler)
    return director
