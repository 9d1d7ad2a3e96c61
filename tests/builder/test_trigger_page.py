"""The triggers page: signing snippets that work as copied, each delivery's request readable
(credentials masked), a replay, and a test event sent from the page."""

import html
import json
import os
import re
import subprocess
import sys
import time

import pytest

from builder.definition import validate
from builder.models import Trigger, WebhookDelivery, Workflow
from builder.signatures import sign_timestamped
from core.models import ApiKey, Secret
from runner.models import Run
from tests.api import Api, error_of
from tests.runs import wait_for

DEFINITION = {
    "name": "On signup",
    "steps": [{"key": "greet", "action": "debug.echo", "input": {"who": "{{ input.body }}"}}],
}
SECRET = "whsec_0123456789abcdef0123"
RUNNERS = {
    "curl": ["bash", "-c"],
    "python": [sys.executable, "-c"],
    "javascript": ["node", "-e"],
}


@pytest.fixture
def workflow(workspace):
    workflow = Workflow.objects.create(workspace=workspace, slug="signup", name="On signup")
    workflow.publish(validate(DEFINITION, workspace))
    return workflow


def make_trigger(workflow, **settings):
    return Trigger.objects.create(workflow=workflow, token=Trigger.new_token(), **settings)


def snippet_of(page, trigger, language):
    found = re.search(rf'<code id="snippet-{trigger.id}-{language}"[^>]*>(.*?)</code>', page, re.S)
    assert found, f"no {language} snippet on the page"
    return html.unescape(found.group(1))


SIGNATURES = {
    "timestamped": {"signature": "timestamped", "secret": SECRET},
    "github-style": {
        "signature": "hmac",
        "secret": SECRET,
        "signature_header": "X-Hub-Signature-256",
        "signature_prefix": "sha256=",
    },
    "sha512-hmac": {
        "signature": "hmac",
        "secret": SECRET,
        "signature_header": "X-Signature",
        "signature_algorithm": "sha512",
    },
    "unsigned": {},
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("settings", SIGNATURES.values(), ids=SIGNATURES.keys())
@pytest.mark.parametrize("language", RUNNERS)
def test_each_snippet_run_as_copied_is_accepted(
    client, live_server, worker, alice, workflow, settings, language
):
    # Given a webhook, and its page as an editor sees it on the live server
    trigger = make_trigger(workflow, **settings)
    client.force_login(alice)
    host = live_server.url.removeprefix("http://")
    page = client.get("/w/acme/workflows/signup/triggers/", HTTP_HOST=host).content.decode()
    code = snippet_of(page, trigger, language)
    assert live_server.url + f"/hooks/{trigger.token}" in code
    # When the snippet is run as it is, with the secret in the environment it names
    env = {**os.environ, "BRICKWORK_WEBHOOK_SECRET": SECRET}
    done = subprocess.run(
        [*RUNNERS[language], code], env=env, capture_output=True, text=True, timeout=60
    )
    # Then the delivery is accepted and a run started
    assert done.returncode == 0, done.stderr
    assert "202" in done.stdout or '"run"' in done.stdout, done.stdout
    [delivery] = trigger.deliveries.all()
    assert (delivery.verdict, delivery.status_code) == ("accepted", 202), delivery.message
    run = Run.objects.get(id=delivery.run_id)
    assert run.input["body"] == {"event": "test", "id": 1}
    # (and it ends before the test does: a run still going would race the next test's reset)
    wait_for(run)


@pytest.mark.django_db
def test_a_snippet_cannot_be_turned_into_code_by_a_header_setting(client, alice, workflow):
    trigger = make_trigger(
        workflow,
        signature="hmac",
        secret=SECRET,
        signature_header="X-Sig",
        signature_prefix="$(touch /tmp/pwned)'\"",
    )
    client.force_login(alice)
    page = client.get("/w/acme/workflows/signup/triggers/").content.decode()
    curl = snippet_of(page, trigger, "curl")
    assert "-H 'X-Sig: $(touch /tmp/pwned)'\"'\"'\"'\"$SIG\"" in curl
    python = snippet_of(page, trigger, "python")
    assert 'headers["X-Sig"] = "$(touch /tmp/pwned)\'\\"" + digest' in python


@pytest.mark.django_db
def test_a_delivery_shows_its_request_with_credentials_and_secrets_masked(
    client, alice, workspace, workflow
):
    Secret.objects.create(workspace=workspace, name="CRM_TOKEN", value="crm-token-4242")
    trigger = make_trigger(workflow, signature="timestamped", secret=SECRET, headers=["X-Source"])
    body = json.dumps({"event": "signup", "leaked": "crm-token-4242"}).encode()
    signature = sign_timestamped(SECRET, body, time.time())
    client.post(
        f"/hooks/{trigger.token}?campaign=spring",
        data=body,
        content_type="application/json",
        headers={
            "Brickwork-Signature": signature,
            "Authorization": "Bearer top-secret-bearer",
            "Cookie": "session=top-secret-cookie",
            "X-Source": "crm",
        },
    )
    delivery = trigger.deliveries.get()
    # Stored already masked: the signature and credentials never reach the database
    assert delivery.headers["Brickwork-Signature"] == "***"
    assert delivery.headers["Authorization"] == "***"
    assert delivery.headers["X-Source"] == "crm"
    client.force_login(alice)
    listing = client.get("/w/acme/workflows/signup/triggers/").content.decode()
    url = f"/w/acme/workflows/signup/triggers/{trigger.id}/deliveries/{delivery.id}/"
    assert f'href="{url}"' in listing
    page = client.get(url).content.decode()
    assert "X-Source" in page and "crm" in page and "campaign" in page and "spring" in page
    assert "&quot;event&quot;: &quot;signup&quot;" in page
    for secret in ("top-secret-bearer", "top-secret-cookie", signature, "crm-token-4242", SECRET):
        assert secret not in page


@pytest.mark.django_db
def test_replay_makes_a_new_delivery_and_run_with_the_same_request(client, alice, workflow):
    trigger = make_trigger(workflow, signature="timestamped", secret=SECRET, headers=["X-Source"])
    body = json.dumps({"event": "signup"}).encode()
    client.post(
        f"/hooks/{trigger.token}?campaign=spring",
        data=body,
        content_type="application/json",
        headers={
            "Brickwork-Signature": sign_timestamped(SECRET, body, time.time()),
            "X-Source": "crm",
        },
    )
    original = trigger.deliveries.get()
    client.force_login(alice)
    response = client.post(
        f"/w/acme/workflows/signup/triggers/{trigger.id}/deliveries/{original.id}/replay/"
    )
    replay = trigger.deliveries.exclude(id=original.id).get()
    assert response.status_code == 302 and response.url == f"/w/acme/runs/{replay.run_id}/"
    assert (replay.verdict, replay.status_code) == ("accepted", 202)
    assert replay.message == f"Replay of delivery #{original.id} by alice"
    assert replay.run_id != original.run_id
    runs = Run.objects.in_bulk([original.run_id, replay.run_id])
    assert (
        runs[replay.run_id].input
        == runs[original.run_id].input
        == {
            "body": {"event": "signup"},
            "headers": {"x-source": "crm"},
            "query": {"campaign": "spring"},
        }
    )


@pytest.mark.django_db
def test_a_test_event_from_the_page_starts_a_run_and_bad_json_starts_nothing(
    client, alice, workflow
):
    trigger = make_trigger(workflow, signature="timestamped", secret=SECRET)
    client.force_login(alice)
    url = f"/w/acme/workflows/signup/triggers/{trigger.id}/test/"
    refused = client.post(url, {"body": "{not json"}, follow=True)
    assert "The test event&#x27;s body: not JSON" in refused.content.decode()
    assert not trigger.deliveries.exists()
    response = client.post(url, {"body": '{"event": "ping"}'})
    delivery = trigger.deliveries.get()
    assert response.url == f"/w/acme/runs/{delivery.run_id}/"
    assert delivery.message == "Test event sent by alice" and delivery.verdict == "accepted"
    assert Run.objects.get(id=delivery.run_id).input["body"] == {"event": "ping"}


@pytest.mark.django_db
def test_a_disabled_webhook_replays_nothing_and_says_why(client, alice, workflow):
    trigger = make_trigger(workflow, enabled=False)
    client.force_login(alice)
    page = client.post(
        f"/w/acme/workflows/signup/triggers/{trigger.id}/test/", {"body": "{}"}, follow=True
    )
    assert "Not started: The webhook is disabled" in page.content.decode()
    delivery = trigger.deliveries.get()
    assert delivery.verdict == "disabled" and delivery.run_id is None
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_viewers_read_but_neither_replay_nor_test_and_strangers_see_nothing(
    client, bob, charlie, workflow
):
    trigger = make_trigger(workflow)
    client.post(f"/hooks/{trigger.token}", data=b"{}", content_type="application/json")
    delivery = trigger.deliveries.get()
    base = f"/w/acme/workflows/signup/triggers/{trigger.id}/"
    client.force_login(bob)
    page = client.get(f"{base}deliveries/{delivery.id}/").content.decode()
    assert page.count("Replay this delivery") == 0
    assert "snippet-" not in client.get("/w/acme/workflows/signup/triggers/").content.decode()
    for person in (bob, charlie):
        client.force_login(person)
        assert client.post(f"{base}deliveries/{delivery.id}/replay/").status_code == 404
        assert client.post(f"{base}test/", {"body": "{}"}).status_code == 404
    assert client.get(f"{base}deliveries/{delivery.id}/").status_code == 404
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db
def test_the_api_replays_a_delivery_and_sends_a_test_event(client, workspace, workflow):
    api = Api(client, ApiKey.issue(workspace, "t")[1])
    trigger = make_trigger(workflow)
    base = f"/workflows/signup/triggers/{trigger.id}"
    sent = api.post(f"{base}/test", {"body": {"event": "ping"}})
    assert sent.status_code == 202
    first = trigger.deliveries.get()
    assert first.run_id == sent.json()["run"] and first.message == "Test event sent through the API"
    replayed = api.post(f"{base}/deliveries/{first.id}/replay")
    assert replayed.status_code == 202 and replayed.json()["run"] != first.run_id
    assert Run.objects.get(id=replayed.json()["run"]).input["body"] == {"event": "ping"}
    assert api.post(f"{base}/deliveries/999999/replay").status_code == 404
    trigger.enabled = False
    trigger.save()
    refused = api.post(f"{base}/test", {})
    assert refused.status_code == 409 and error_of(refused)["code"] == "disabled"
