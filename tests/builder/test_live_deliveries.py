"""The triggers page's live deliveries: a poll with a cursor brings each new delivery to
the top of its webhook's table; a quiet poll is a 204 after one read of the deliveries."""

import html
import json
import re
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from builder.signatures import sign_timestamped
from tests.builder.test_trigger_page import SECRET, make_trigger, workflow  # noqa: F401

pytestmark = pytest.mark.django_db
PAGE = "/w/acme/workflows/signup/triggers/"


def poll_url(response):
    found = re.search(r'hx-get="([^"]+)" hx-trigger="live-poll"', response.content.decode())
    return html.unescape(found.group(1))


def deliver(client, trigger, body=b'{"event": "signup"}', signed=True):
    headers = {"Brickwork-Signature": sign_timestamped(SECRET, body, time.time())} if signed else {}
    client.post(
        f"/hooks/{trigger.token}", data=body, content_type="application/json", headers=headers
    )


def test_a_new_delivery_goes_to_the_top_of_its_webhooks_table(client, alice, workflow):  # noqa: F811
    signed = make_trigger(workflow, signature="timestamped", secret=SECRET)
    plain = make_trigger(workflow)
    client.force_login(alice)
    page = client.get(PAGE)
    assert f'<tbody id="deliveries-{signed.id}">' in page.content.decode()
    url = poll_url(page)
    client.get(url)
    with CaptureQueriesContext(connection) as quiet:
        assert client.get(url).status_code == 204
    # the session, the user, the workspace, the membership, the workflow, the deliveries
    assert len(quiet) <= 6
    assert sum("webhookdelivery" in q["sql"] for q in quiet.captured_queries) == 1
    deliver(client, signed)
    deliver(client, signed, json.dumps({"event": "again"}).encode(), signed=False)  # refused
    answer = client.get(url)
    body = re.search(
        rf'<tbody hx-swap-oob="afterbegin:#deliveries-{signed.id}">(.*?)</tbody>', answer.text, re.S
    )
    ids = [int(n) for n in re.findall(r'data-id="(\d+)"', body.group(1))]
    assert ids == sorted(signed.deliveries.values_list("id", flat=True), reverse=True)
    assert "Accepted" in body.group(1) and "Bad Signature" in body.group(1)
    assert f"deliveries-{plain.id}" not in answer.text
    assert ">2 new deliveries<" in answer.text
    # What the page shows already is not inserted again (the cursor waits for slow commits)
    again = client.get(f"{poll_url(answer)}&shown={','.join(map(str, ids))}")
    assert again.status_code == 200 and "afterbegin" not in again.text


def test_another_workspace_cannot_poll_the_deliveries(client, charlie, workflow):  # noqa: F811
    client.force_login(charlie)
    assert client.get(f"{PAGE}live?cursor=0").status_code == 404


def test_a_hand_made_cursor_is_refused(client, alice, workflow):  # noqa: F811
    client.force_login(alice)
    assert client.get(f"{PAGE}live?cursor=abc").status_code == 400
