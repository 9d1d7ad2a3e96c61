"""`http.request`: one HTTP call, with the step's idempotency key and honest retry signals."""

import json
import urllib.error
import urllib.parse
import urllib.request
from email.utils import parsedate_to_datetime

from django.utils import timezone

from core import outbound
from core.actions.registry import action
from core.errors import ActionError, AttemptTimeout, NonRetryable

RETRYABLE_4XX = {408, 425, 429}
MAX_RESPONSE_BYTES = 5 * 1024 * 1024

INPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "method": {
            "type": "string",
            "enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
            "default": "GET",
        },
        "url": {"type": "string", "pattern": "^https?://", "minLength": 8},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "json": {"description": "A JSON body (sets Content-Type: application/json)."},
        "body": {"type": "string", "description": "A raw text body."},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 600, "default": 30},
    },
    "required": ["url"],
    "additionalProperties": False,
}


@action("http.request", input_schema=INPUT_SCHEMA, retry={"max_attempts": 5}, timeout_s=60)
def http_request(ctx, input):
    """Send one HTTP request; the status, headers and parsed body are the output."""
    return perform_request(ctx, input)


def perform_request(ctx, spec):
    """Send the request through the outbound policy, with the URL as finally filled in."""
    outbound.check_url(spec["url"])
    method = spec.get("method", "GET").upper()
    headers = {"User-Agent": "Brickwork", **(spec.get("headers") or {})}
    headers.setdefault("Idempotency-Key", ctx.idempotency_key)
    data = None
    if "json" in spec:
        data = json.dumps(spec["json"]).encode()
        headers.setdefault("Content-Type", "application/json")
    elif "body" in spec:
        data = str(spec["body"]).encode()
    timeout = min(float(spec.get("timeout", 30)), max(ctx.remaining(), 0.001))
    request = urllib.request.Request(spec["url"], data=data, headers=headers, method=method)
    try:
        with outbound.opener().open(request, timeout=timeout) as response:
            return _output(response.status, response.headers, response.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as error:
        output = _output(error.code, error.headers, error.read(MAX_RESPONSE_BYTES))
        message = f"HTTP {error.code} from {method} {_origin(spec['url'])}"
        retry_after = _retry_after(error.headers.get("Retry-After"))
        if 400 <= error.code < 500 and error.code not in RETRYABLE_4XX:
            raise NonRetryable(message, details=output)
        raise ActionError(message, retry_after=retry_after, details=output)
    except TimeoutError:
        raise AttemptTimeout(f"{method} {_origin(spec['url'])} timed out after {timeout:.1f} s")
    except urllib.error.URLError as error:
        raise ActionError(f"{method} {_origin(spec['url'])} failed: {error.reason}")


def _output(status, headers, raw):
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = text
    return {"status": status, "headers": dict(headers.items()), "body": body}


def _origin(url):
    """Scheme and host only: a URL's path or query may carry a token."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}"


def _retry_after(value):
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None
