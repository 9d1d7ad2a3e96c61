"""`POST /hooks/<token>`: signed deliveries start runs; everything else is refused and recorded."""

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from builder.definition import validate
from builder.models import Trigger, WebhookDelivery, Workflow
from builder.signatures import sign_hmac, sign_timestamped
from core.models import ApiKey
from runner.models import Run
from tests.api import Api, error_of
from tests.runs import wait_for

DEFINITION = {
    "name": "On signup",
    "steps": [{"key": "greet", "action": "debug.echo", "input": {"who": "{{ input.body.email }}"}}],
}
BODY = json.dumps({"event": "signup", "email": "ada@example.com"}).encode()
SECRET = "whsec_0123456789abcdef"


@pytest.fixture
def workflow(workspace):
    workflow = Workflow.objects.create(workspace=workspace, slug="signup", name="On signup")
    workflow.publish(validate(DEFINITION, workspace))
    return workflow


def make_trigger(workflow, **settings):
    return Trigger.objects.create(workflow=workflow, token=Trigger.new_token(), **settings)


def post(client, trigger, body=BODY, content_type="application/json", **headers):
    return client.post(
        f"/hooks/{trigger.token}", data=body, content_type=content_type, headers=headers
    )


def verdicts(trigger):
    return list(trigger.deliveries.order_by("id").values_list("verdict", "status_code"))


@pytest.mark.django_db(transaction=True)
def test_a_signed_delivery_starts_a_run_with_the_envelope_as_input(client, workflow, worker):
    # Given a trigger that checks a timestamped signature and keeps one header
    trigger = make_trigger(workflow, signature="timestamped", secret=SECRET, headers=["X-Source"])
    signature = sign_timestamped(SECRET, BODY, time.time())
    # When a signed delivery arrives
    response = client.post(
        f"/hooks/{trigger.token}?campaign=spring",
        data=BODY,
        content_type="application/json",
        headers={"Brickwork-Signature": signature, "X-Source": "crm", "X-Other": "no"},
    )
    # Then it is answered 202 with the run, which runs with the envelope as input
    assert response.status_code == 202
    run = wait_for(Run.objects.get(id=response.json()["run"]))
    assert run.status == "succeeded" and run.trigger == "webhook"
    assert run.input == {
        "body": {"event": "signup", "email": "ada@example.com"},
        "headers": {"x-source": "crm"},
        "query": {"campaign": "spring"},
    }
    assert run.output == {"who": "ada@example.com"}
    [delivery] = trigger.deliveries.all()
    assert (delivery.verdict, delivery.status_code, delivery.run_id) == ("accepted", 202, run.id)
    assert delivery.size == len(BODY)


@pytest.mark.django_db
def test_wrong_or_stale_signatures_are_401_and_start_nothing(client, workflow):
    trigger = make_trigger(workflow, signature="timestamped", secret=SECRET)
    now = time.time()
    wrong = sign_timestamped("not-the-secret-at-all", BODY, now)
    stale = sign_timestamped(SECRET, BODY, now - 400)
    for header in (wrong, stale, ""):
        response = post(client, trigger, **{"Brickwork-Signature": header})
        assert response.status_code == 401
        assert error_of(response)["message"].startswith("Signature rejected")
    assert not Run.objects.exists()
    assert verdicts(trigger) == [("bad_signature", 401), ("stale", 401), ("bad_signature", 401)]


@pytest.mark.django_db
def test_a_timestamped_signature_starts_one_run_however_often_it_is_sent(client, workflow):
    # Given a trigger checking timestamped signatures, and one signed delivery
    trigger = make_trigger(workflow, signature="timestamped", secret=SECRET)
    now = time.time()
    signed = {"Brickwork-Signature": sign_timestamped(SECRET, BODY, now)}
    # When it is sent again as it is, even with another candidate signature beside it
    first = post(client, trigger, **signed)
    again = post(client, trigger, **signed)
    padded = {"Brickwork-Signature": signed["Brickwork-Signature"] + ",v1=00"}
    padded_again = post(client, trigger, **padded)
    # Then only the first starts a run; the copies are refused as replays
    assert first.status_code == 202
    for refused in (again, padded_again):
        assert refused.status_code == 401
        assert error_of(refused)["message"] == "Signature rejected: it was used before (a replay)"
    assert Run.objects.count() == 1
    # And the same body signed at another moment is another delivery
    assert (
        post(
            client, trigger, **{"Brickwork-Signature": sign_timestamped(SECRET, BODY, now + 1)}
        ).status_code
        == 202
    )
    assert verdicts(trigger) == [
        ("accepted", 202),
        ("stale", 401),
        ("stale", 401),
        ("accepted", 202),
    ]


@pytest.mark.django_db
def test_a_signed_delivery_refused_before_its_run_started_can_be_sent_again(client, workspace):
    # Given a trigger of a workflow not published yet
    draft = Workflow.objects.create(workspace=workspace, slug="later", name="Later")
    trigger = make_trigger(draft, signature="timestamped", secret=SECRET)
    signed = {"Brickwork-Signature": sign_timestamped(SECRET, BODY, time.time())}
    assert post(client, trigger, **signed).status_code == 409
    # When it is published and the sender retries the same signed delivery
    draft.publish(validate(DEFINITION, workspace))
    # Then it starts the run: the refusal did not use the signature up
    assert post(client, trigger, **signed).status_code == 202


@pytest.mark.django_db
def test_a_replay_with_a_known_event_id_gets_the_first_run(client, workflow):
    # Given a trigger with both a timestamped signature and an event id header
    trigger = make_trigger(
        workflow, signature="timestamped", secret=SECRET, event_id_header="X-Event-Id"
    )
    signed = {"Brickwork-Signature": sign_timestamped(SECRET, BODY, time.time())}
    first = post(client, trigger, **signed, **{"X-Event-Id": "evt_1"})
    # When the same delivery comes again with its event id, then with a made-up one
    retry = post(client, trigger, **signed, **{"X-Event-Id": "evt_1"})
    forged = post(client, trigger, **signed, **{"X-Event-Id": "evt_forged"})
    # Then the retry is answered with the first run, and the forged id starts nothing
    # (the event id header is not signed; the signature is)
    assert retry.status_code == 200 and retry.json()["run"] == first.json()["run"]
    assert forged.status_code == 401
    assert Run.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_copies_of_one_signed_delivery_at_once_start_one_run(live_server, workflow, worker):
    # Given ten copies of one signed delivery, sent at the same moment
    trigger = make_trigger(workflow, signature="timestamped", secret=SECRET)
    signature = sign_timestamped(SECRET, BODY, time.time())
    barrier = threading.Barrier(10)

    def deliver(_):
        request = urllib.request.Request(
            f"{live_server.url}/hooks/{trigger.token}", data=BODY, method="POST"
        )
        request.add_header("Content-Type", "application/json")
        request.add_header("Brickwork-Signature", signature)
        barrier.wait(timeout=10)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(deliver, range(10)))
    # Then one starts a run and nine are refused as replays
    assert statuses == [202] + [401] * 9
    assert wait_for(Run.objects.get()).status == "succeeded"


@pytest.mark.django_db
def test_github_style_signature(client, workflow):
    trigger = make_trigger(
        workflow,
        signature="hmac",
        secret=SECRET,
        signature_header="X-Hub-Signature-256",
        signature_prefix="sha256=",
        event_id_header="X-GitHub-Delivery",
        input_mode="body",
    )
    github = {
        "X-Hub-Signature-256": sign_hmac(SECRET, BODY, "sha256", "sha256="),
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    }
    response = post(client, trigger, **github)
    assert response.status_code == 202
    assert Run.objects.get().input == {"event": "signup", "email": "ada@example.com"}
    tampered = post(client, trigger, body=BODY.replace(b"ada", b"eve"), **github)
    assert tampered.status_code == 401
    assert Run.objects.count() == 1


@pytest.mark.django_db
def test_a_replayed_event_id_gives_the_same_run(client, workflow):
    trigger = make_trigger(workflow, event_id_header="X-Event-Id")
    first = post(client, trigger, **{"X-Event-Id": "evt_1"})
    again = post(client, trigger, **{"X-Event-Id": "evt_1"})
    other = post(client, trigger, **{"X-Event-Id": "evt_2"})
    assert first.status_code == 202 and other.status_code == 202
    assert again.status_code == 200
    assert again.json() == {"run": first.json()["run"], "duplicate": True}
    assert Run.objects.count() == 2
    assert [v for v, _ in verdicts(trigger)] == ["accepted", "duplicate", "accepted"]


@pytest.mark.django_db
def test_oversize_malformed_and_disabled(client, workflow):
    trigger = make_trigger(workflow)
    big = b'{"x": "' + b"x" * (1024 * 1024) + b'"}'
    assert post(client, trigger, body=big).status_code == 413
    for body in (b"{not json", b"plain words", b'{"a": NaN}', b'{"a": "\\u0000"}'):
        response = post(client, trigger, body=body)
        assert response.status_code == 400
        assert error_of(response)["code"] == "malformed"
    trigger.enabled = False
    trigger.save()
    disabled = post(client, trigger)
    unknown = client.post("/hooks/" + "u" * 32, data=BODY, content_type="application/json")
    # A disabled trigger answers as a token that does not exist: nothing is confirmed
    assert disabled.status_code == unknown.status_code == 404
    assert disabled.content == unknown.content
    assert not Run.objects.exists()
    assert [v for v, _ in verdicts(trigger)] == ["too_large"] + ["malformed"] * 4 + ["disabled"]


@pytest.mark.django_db
def test_a_content_length_past_any_size_is_413_and_recorded(client, workflow):
    trigger = make_trigger(workflow)
    response = post(client, trigger, CONTENT_LENGTH="9" * 25)
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    [delivery] = trigger.deliveries.all()
    assert (delivery.verdict, delivery.size) == ("too_large", 2**31 - 1)


@pytest.mark.django_db
def test_a_bare_post_delivers_an_empty_object(client, workflow):
    trigger = make_trigger(workflow)
    response = post(client, trigger, body=b"", content_type="")
    assert response.status_code == 202, response.content
    assert Run.objects.get().input == {"body": {}, "headers": {}, "query": {}}
    assert verdicts(trigger) == [("accepted", 202)]


@pytest.mark.django_db
def test_old_deliveries_are_purged_after_the_retention(workflow, settings):
    # Given deliveries of 40, 35 and 1 days ago, and a retention of 30 days
    settings.WEBHOOK_DELIVERY_RETENTION_DAYS = 30
    trigger = make_trigger(workflow)
    for days in (40, 35, 1):
        delivery = WebhookDelivery.objects.create(
            trigger=trigger, status_code=202, verdict="accepted"
        )
        received = timezone.now() - timedelta(days=days)
        WebhookDelivery.objects.filter(id=delivery.id).update(received_at=received)
    # When the sweeper purges them, then the two older than 30 days go
    assert WebhookDelivery.purge_expired() == 2
    assert WebhookDelivery.purge_expired() == 0
    assert trigger.deliveries.count() == 1


@pytest.mark.django_db
def test_raw_text_when_the_trigger_accepts_it(client, workflow):
    trigger = make_trigger(workflow, accept_text=True)
    response = post(client, trigger, body=b"name=ada&plan=pro", content_type="text/plain")
    assert response.status_code == 202
    assert Run.objects.get().input["body"] == "name=ada&plan=pro"


@pytest.mark.django_db
def test_unknown_tokens_get_methods_and_unpublished_workflows(client, workflow, workspace):
    assert (
        client.post(
            "/hooks/unknown-token-unknown-token", data=BODY, content_type="application/json"
        ).status_code
        == 404
    )
    assert client.post("/hooks/x", data=BODY, content_type="application/json").status_code == 404
    trigger = make_trigger(workflow)
    assert client.get(f"/hooks/{trigger.token}").status_code == 405
    draft = Workflow.objects.create(workspace=workspace, slug="draft", name="Draft")
    unpublished = make_trigger(draft)
    response = post(client, unpublished)
    assert response.status_code == 409
    assert verdicts(unpublished) == [("rejected", 409)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_start_one_run(live_server, workflow, worker):
    # (The worker runs the run to its end before the tables are flushed: a run still
    # being worked on by a leftover worker can deadlock with that flush.)
    trigger = make_trigger(workflow, event_id_header="X-Event-Id")
    barrier = threading.Barrier(10)

    def deliver(_):
        request = urllib.request.Request(
            f"{live_server.url}/hooks/{trigger.token}", data=BODY, method="POST"
        )
        request.add_header("Content-Type", "application/json")
        request.add_header("X-Event-Id", "evt_concurrent")
        barrier.wait(timeout=10)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())["run"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(deliver, range(10)))
    assert Run.objects.count() == 1
    assert {run for _, run in answers} == {Run.objects.get().id}
    assert sorted(status for status, _ in answers) == [200] * 9 + [202]
    assert wait_for(Run.objects.get()).status == "succeeded"


@pytest.mark.django_db
def test_triggers_through_the_api(client, workspace, workflow):
    api = Api(client, ApiKey.issue(workspace, "t")[1])
    # A signed trigger gets a generated secret, shown once
    created = api.post(
        "/workflows/signup/triggers",
        {"name": "CRM", "signature": "timestamped", "event_id_header": "X-Event-Id"},
    )
    assert created.status_code == 201
    body = created.json()
    assert len(body["secret"]) >= 32 and body["signature_header"] == "Brickwork-Signature"
    assert body["url"].startswith("http://testserver/hooks/")
    path = f"/workflows/signup/triggers/{body['id']}"
    assert api.get(path).json()["secret"] is None
    # A delivery signed with that secret is accepted and visible in the deliveries
    trigger = Trigger.objects.get(id=body["id"])
    signature = sign_timestamped(body["secret"], BODY, time.time())
    assert post(client, trigger, **{"Brickwork-Signature": signature}).status_code == 202
    [delivery] = api.get(f"{path}/deliveries").json()["items"]
    assert delivery["verdict"] == "accepted" and delivery["run"] == Run.objects.get().id
    # PATCH changes only what it sends; an HMAC check needs its header
    assert api.patch(path, {"enabled": False}).json()["enabled"] is False
    assert Trigger.objects.get(id=body["id"]).secret == body["secret"]
    bad = api.patch(path, {"signature": "hmac"})
    assert bad.status_code == 422 and "signature_header" in error_of(bad)["fields"]
    invalid = api.post("/workflows/signup/triggers", {"headers": ["bad header"]})
    assert invalid.status_code == 422
    # A text body cannot be a run's whole input (an object): such a trigger could never run
    text = api.post("/workflows/signup/triggers", {"input_mode": "body", "accept_text": True})
    assert text.status_code == 422 and "accept_text" in error_of(text)["fields"]
    assert [t["id"] for t in api.get("/workflows/signup/triggers").json()] == [body["id"]]
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_deliveries_skip_the_browser_middleware_but_keep_headers_and_host_check(client, workflow):
    trigger = make_trigger(workflow)
    response = post(client, trigger)
    assert response.status_code == 202
    # SecurityMiddleware and CommonMiddleware still apply; frame options and CSRF do not
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(response.content))
    assert "X-Frame-Options" not in response and not response.cookies
    refused = client.post(
        f"/hooks/{trigger.token}", data=BODY, content_type="application/json", HTTP_HOST="evil"
    )
    assert refused.status_code == 400
    assert Run.objects.count() == 1
