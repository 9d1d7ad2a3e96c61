"""`POST /hooks/<token>`: a delivery to a webhook trigger starts a run of its workflow, or,
with `?run=<id>&event=<name>`, is that event for a run of the workflow (its JSON body the
waiting step's output, as `POST /api/v1/runs/<id>/events/<name>`).

Built to answer fast: the trigger and its workflow's latest version come from a short
per-process cache (builder/webhook_cache.py), the checks (size, signature, JSON) need no
database, and one transaction starts the run and records the delivery (on PostgreSQL one
statement, with no BEGIN or COMMIT: runner/lazy_transaction.py); the run's messages go to
the broker after the commit. Every delivery to an existing trigger is recorded with
its verdict, whatever the answer.
"""

import hashlib
import re
import time

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from builder import signatures, webhook_cache
from builder.models import Trigger, WebhookDelivery
from core import counters, jsonbody
from core.api.errors import error_response
from core.errors import FieldErrors, InvalidTransition, SecretUnreadable
from core.masking import MASK
from runner import fastsql, launch
from runner.models import Run
from runner.states import Trigger as RunTrigger

PREFIX = "/hooks/"
# Headers whose values prove who sent a request: stored and shown masked.
SENSITIVE_HEADER = re.compile(
    r"authorization|cookie|signature|secret|token|password|api[-_]?key", re.IGNORECASE
)
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
EVENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
MAX_RECORDED_SIZE = 2**31 - 1  # WebhookDelivery.size is a 32-bit column
Verdict = WebhookDelivery.Verdict
# A timestamped signature is accepted within ± the tolerance of its time: remembered as
# used that long after the latest moment it could still be accepted.
REPLAY_WINDOW_S = 2 * signatures.TOLERANCE_S + 60


class Refused(Exception):
    def __init__(self, status, verdict, message, *, code=None, fields=None):
        super().__init__(message)
        self.status, self.verdict, self.message = status, verdict, message
        self.code, self.fields = code or verdict, fields


def shortcut(get_response):
    """Middleware sending `/hooks/` straight to `receive`, past the browser's middleware.

    A delivery needs no CSRF check, user, messages, frame options or htmx, nor URL
    resolving: skipping them saves ~7 % of its CPU. It sits below SecurityMiddleware
    (headers) and CommonMiddleware (host check, Content-Length), which still apply.
    """

    def middleware(request):
        if request.path_info.startswith(PREFIX):
            return receive(request, request.path_info.removeprefix(PREFIX))
        return get_response(request)

    return middleware


@csrf_exempt
def receive(request, token):
    if request.method != "POST":
        response = error_response(405, "A webhook accepts POST only")
        response["Allow"] = "POST"
        return response
    if not TOKEN.match(token):
        return error_response(404, "Not found")
    try:
        return _deliver(request, webhook_cache.target(token))
    except IntegrityError:
        # The cached trigger or version may be gone (deleted by another process): the
        # rollback undid this run; look again without the cache, once.
        return _deliver(request, webhook_cache.target(token, fresh=True))


def _deliver(request, target):
    if target is None:
        return error_response(404, "Not found")
    trigger = target.trigger
    size = _declared_length(request)
    seen = Seen(_stored_headers(trigger, request.headers), dict(request.GET.items()))
    try:
        if not trigger.enabled:
            # Worded as for a token that does not exist: the answer confirms nothing.
            raise Refused(404, Verdict.DISABLED, "Not found", code="not_found")
        body = _read_body(request, size)
        size = len(body)
        seen.body = body.decode("utf-8", "replace")
        signature = _check_signature(trigger, request, body)
        payload = _parse(trigger, body)
        if "run" in request.GET or "event" in request.GET:
            return _resume(trigger, request, payload if body.strip() else None, size, seen)
        run_input = _run_input(trigger, request.headers, seen.query, payload)
        event_id = _event_id(trigger, request)
        run_id = _start(trigger, target.version, run_input, event_id, size, signature, seen)
    except Refused as refused:
        _record(trigger, size, refused.status, refused.verdict, seen, message=refused.message)
        return error_response(
            refused.status, refused.message, code=refused.code, fields=refused.fields
        )
    except Duplicate as duplicate:
        return JsonResponse({"run": duplicate.run_id, "duplicate": True}, status=200)
    return JsonResponse({"run": run_id}, status=202)


def redeliver(trigger, body, headers, query, note):
    """A delivery made by a signed-in editor from the page (a replay, a test event): the
    same parsing, input and recording as `POST /hooks/`, with no signature or event id to
    check. Returns the new run's id; raises Refused, recorded as any refusal is."""
    seen = Seen(headers, query, body.decode("utf-8", "replace"))
    try:
        if not trigger.enabled:
            raise Refused(409, Verdict.DISABLED, "The webhook is disabled: enable it first")
        if "run" in query or "event" in query:
            # It resumed a waiting run, once: sent again it would start a new run instead.
            raise Refused(409, Verdict.REJECTED, "An event for a waiting run is not replayed")
        run_input = _run_input(trigger, headers, query, _parse(trigger, body))
        return _start(
            trigger, trigger.workflow.latest_version(), run_input, "", len(body), "", seen, note
        )
    except Refused as refused:
        message = f"{note}: {refused.message}"
        _record(trigger, len(body), refused.status, refused.verdict, seen, message=message)
        raise


class Seen:
    """What a delivery's request held, as stored with it."""

    def __init__(self, headers, query, body=""):
        self.headers, self.query, self.body = headers, query, body

    def stored(self):
        """The fields of the delivery's row; a NUL, which PostgreSQL's text and jsonb refuse,
        is stored as U+FFFD (only the stored copy: the run's input was checked as it came)."""
        return {
            "headers": {_text(name): _text(value) for name, value in self.headers.items()},
            "query": {_text(name): _text(value) for name, value in self.query.items()},
            "body": _text(self.body),
        }


def _text(value):
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


class Duplicate(Exception):
    def __init__(self, run_id):
        super().__init__(run_id)
        self.run_id = run_id


def _stored_headers(trigger, headers):
    """The request's headers, with the values that prove identity masked: a delivery's page
    shows them and a replay reuses them, and neither may hand a credential on."""
    own = trigger.signature_header_name.lower() if trigger.signature_header_name else ""
    return {
        name: MASK if (name.lower() == own or SENSITIVE_HEADER.search(name)) else value
        for name, value in headers.items()
    }


def _declared_length(request):
    """The Content-Length, as far as a delivery's `size` can record it."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    return min(int(declared), MAX_RECORDED_SIZE) if declared.isdigit() else 0


def _read_body(request, declared):
    too_large = Refused(413, Verdict.TOO_LARGE, "The body is over 1 MiB")
    if declared > settings.MAX_REQUEST_BYTES:
        raise too_large  # refused before reading it
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large
    if len(body) > settings.MAX_REQUEST_BYTES:
        raise too_large
    return body


def _check_signature(trigger, request, body):
    """The verified timestamped signature (a replay carries the same one), else ""."""
    if trigger.signature == Trigger.Signature.NONE:
        return ""
    header = request.headers.get(trigger.signature_header_name, "")
    try:
        secret = trigger.secret  # decrypted once per cached row (webhook_cache)
    except SecretUnreadable:
        # Saved under a key this server no longer has: nothing can be verified.
        raise Refused(401, Verdict.BAD_SIGNATURE, "Signature rejected: set a new secret")
    try:
        if trigger.signature == Trigger.Signature.TIMESTAMPED:
            return signatures.verify_timestamped(secret, body, header, now=time.time())
        signatures.verify_hmac(
            secret, body, header, trigger.signature_algorithm, trigger.signature_prefix
        )
        return ""  # no time in it: replays are told apart by the event id only
    except signatures.StaleSignature as stale:
        raise Refused(401, Verdict.STALE, f"Signature rejected: {stale}")
    except signatures.BadSignature as bad:
        raise Refused(401, Verdict.BAD_SIGNATURE, f"Signature rejected: {bad}")


def _parse(trigger, body):
    if not body.strip():
        return {}  # a bare POST (a ping, `curl -X POST <url>`) carries an empty object
    try:
        return jsonbody.parse(body)
    except jsonbody.MalformedJSON as error:
        if not trigger.accept_text:
            raise Refused(400, Verdict.MALFORMED, f"The body is malformed: {error}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, Verdict.MALFORMED, "The body is not UTF-8 text")
    return text


def _run_input(trigger, headers, query, payload):
    if trigger.input_mode == Trigger.InputMode.BODY:
        run_input = payload
    else:
        by_name = {name.lower(): value for name, value in headers.items()}
        chosen = {
            name.lower(): by_name[name.lower()]
            for name in trigger.headers
            if name.lower() in by_name
        }
        run_input = {"body": payload, "headers": chosen, "query": dict(query)}
    if problem := jsonbody.unstorable(run_input):
        raise Refused(400, Verdict.MALFORMED, f"The request cannot be stored: {problem}")
    return run_input


def _event_id(trigger, request):
    if not trigger.event_id_header:
        return ""
    value = request.headers.get(trigger.event_id_header, "").strip()
    if len(value) > 200 or jsonbody.unstorable(value):
        return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
    return value


def _resume(trigger, request, payload, size, seen):
    """An event for a waiting run of the trigger's workflow; 404 for any other run."""
    run_id, name = request.GET.get("run", ""), request.GET.get("event", "")
    fields = {}
    if not run_id.isdigit() or len(run_id) > 18:
        fields["run"] = ["must be the id of a run of this workflow"]
    if not EVENT_NAME.match(name):
        fields["event"] = ["must be an event name: 1-100 letters, digits, _ . or -"]
    if fields:
        raise Refused(422, Verdict.REJECTED, "Name the run and the event", code="invalid",
                      fields=fields)  # fmt: skip
    if not Run.objects.filter(id=int(run_id), workflow_id=trigger.workflow_id).exists():
        raise Refused(404, Verdict.REJECTED, "Not found", code="not_found")
    try:
        resumed = launch.deliver_event(int(run_id), name, payload)
    except InvalidTransition as refused:
        raise Refused(409, Verdict.REJECTED, str(refused), code="invalid_transition")
    message = f"event {name}: resumed {', '.join(resumed)}"
    _record(trigger, size, 200, Verdict.ACCEPTED, seen, run_id=int(run_id), message=message)
    return JsonResponse({"run": int(run_id), "event": name, "resumed": resumed}, status=200)


def _start(trigger, version, run_input, event_id, size, signature, seen, note=""):
    """Start the run and record the delivery together, and return the run's id; an event
    seen before starts nothing, and a timestamped signature starts at most one run."""
    if event_id and (earlier := _earlier_delivery(trigger, event_id)):
        _duplicate(trigger, size, event_id, earlier["run_id"], seen)
    if version is None:
        raise Refused(409, Verdict.REJECTED, "The workflow has no published version")
    if trigger.workflow.archived_at:
        raise Refused(409, Verdict.REJECTED, "The workflow is archived")
    # By token, not id: a database may hand a deleted trigger's id to a new one.
    replay_key = f"brickwork:webhook-signature:{trigger.token}:{signature}" if signature else ""
    if replay_key and counters.claim(replay_key, REPLAY_WINDOW_S) is False:
        raise Refused(401, Verdict.STALE, "Signature rejected: it was used before (a replay)")
    try:
        return _start_run(trigger, version, run_input, event_id, size, seen, note)
    except Duplicate:
        raise  # an earlier delivery's run stands: the signature stays used
    except BaseException:
        if replay_key:
            counters.release(replay_key)  # nothing started: the sender may try it again
        raise


def _start_run(trigger, version, run_input, event_id, size, seen, note):
    workflow = trigger.workflow
    delivery = _row(trigger, size, 202, Verdict.ACCEPTED, seen, event_id=event_id, message=note)
    try:
        # The delivery is written with the run, in its transaction: on PostgreSQL one
        # statement in all (runner/engine.py start_run).
        run = launch.start_run(
            workspace=workflow.workspace,
            definition=version.definition,
            input=run_input,
            trigger=RunTrigger.WEBHOOK,
            workflow=workflow,
            workflow_version=version,
            also_insert=[(WebhookDelivery, lambda run: {**delivery, "run_id": run.id})],
        )
    except IntegrityError:
        # The same event, delivered twice at once: the other delivery's run stands, and
        # the rollback took this run (and its not-yet-sent messages) away.
        earlier = _earlier_delivery(trigger, event_id) if event_id else None
        if earlier is None:
            raise
        _duplicate(trigger, size, event_id, earlier["run_id"], seen)
    except FieldErrors as invalid:
        raise Refused(422, Verdict.REJECTED, invalid.message, code="invalid", fields=invalid.fields)
    return run.id


def _earlier_delivery(trigger, event_id):
    accepted = WebhookDelivery.objects.filter(
        trigger=trigger, event_id=event_id, verdict=Verdict.ACCEPTED
    )
    return accepted.values("run_id").first()


def _duplicate(trigger, size, event_id, run_id, seen):
    message = "This event was delivered before"
    _record(
        trigger,
        size,
        200,
        Verdict.DUPLICATE,
        seen,
        event_id=event_id,
        run_id=run_id,
        message=message,
    )
    raise Duplicate(run_id)


def _record(trigger, size, status, verdict, seen, *, event_id="", run_id=None, message=""):
    # Written out (runner/fastsql.py): half the CPU of the ORM's create, on every delivery.
    row = _row(trigger, size, status, verdict, seen, event_id=event_id, message=message)
    fastsql.insert(WebhookDelivery, [{**row, "run_id": run_id}])


def _row(trigger, size, status, verdict, seen, *, event_id="", message=""):
    """A delivery's row, but for its `run_id`."""
    return {
        "trigger_id": trigger.id,
        "received_at": timezone.now(),
        "size": size,
        "status_code": status,
        "verdict": verdict,
        "event_id": event_id,
        "message": message[:500],
        **seen.stored(),
    }
