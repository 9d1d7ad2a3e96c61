"""API -> builder -> API: saving every step unchanged in the builder keeps the definition.

The panel is read as a browser reads it (every named control with its shown value), so a
field the panel does not show, or shows differently from how it saves, fails the test.
"""

from html.parser import HTMLParser

import pytest
from django.test import Client

from builder.definition import validate
from core.models import ApiKey
from tests.api import Api

pytestmark = pytest.mark.django_db

EVERY_FIELD = {
    "name": "Order pipeline",
    "description": "Charges, ships and tells the customer; undoes the charge on failure.",
    "input_schema": {
        "type": "object",
        "properties": {"order": {"type": "integer"}, "email": {"type": "string"}},
        "required": ["order"],
    },
    "steps": [
        {
            "key": "charge",
            "name": "Charge the card",
            "action": "debug.echo@1",
            "input": {"order": "{{ input.order }}", "run": "{{ run.id }}", "n": 3},
            "retry": {
                "max_attempts": 5,
                "initial_interval_s": 0.5,
                "backoff_coefficient": 3,
                "max_interval_s": 30,
                "jitter": False,
            },
            "timeout_s": 12.5,
            "compensate": {
                "action": "debug.echo@1",
                "input": {"refund": "{{ steps.charge.output.order }}"},
                "retry": {
                    "max_attempts": 7,
                    "initial_interval_s": 2,
                    "backoff_coefficient": 1.5,
                    "max_interval_s": 90,
                    "jitter": True,
                },
                "timeout_s": 45,
            },
        },
        {"key": "audit", "action": "debug.echo@1", "input": "{{ input }}", "after": []},
        {
            "key": "ship",
            "action": "debug.sleep@1",
            "input": {"ms": 1},
            "timeout_s": 60,
            "compensate": {"action": "debug.echo@1", "input": {}},
        },
        {
            "key": "notify",
            "action": "debug.echo@1",
            "input": {"to": "{{ input.email }}", "parcel": "{{ steps.ship.output }}"},
            "after": ["ship", "audit"],
            "retry": {"max_attempts": 2},  # the rest, jitter too, from the action
            "compensate": {
                "action": "debug.echo@1",
                "input": {},
                "retry": {"initial_interval_s": 0.25, "jitter": False},
                "timeout_s": 5,
            },
        },
    ],
}


class FormReader(HTMLParser):
    """What a browser submits for the form `form_id`: named controls with their values."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.data, self._textarea, self._select = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        name = attrs.get("name") if self.inside else None
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in attrs:
                    self.data.setdefault(name, []).append(attrs.get("value", "on"))
            else:
                self.data.setdefault(name, []).append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data.setdefault(name, []).append("")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data.setdefault(self._select, []).append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data.removeprefix("\n")


def test_saving_every_step_unchanged_keeps_every_field(workspace, alice):
    # Given a definition using every field the format allows, imported through the API
    api = Api(Client(), ApiKey.issue(workspace, "round trip")[1])
    assert api.put("/workflows/orders", EVERY_FIELD).status_code == 201
    browser = Client(raise_request_exception=True)
    browser.force_login(alice)
    # When each step's panel is opened and saved as shown, as a user pressing Save does
    for index in range(len(EVERY_FIELD["steps"])):
        page = browser.get(f"/w/acme/workflows/orders/?step={index}")
        assert page.status_code == 200
        form = FormReader("step-form")
        form.feed(page.content.decode())
        form.data.pop("selected", None)
        saved = browser.post(f"/w/acme/workflows/orders/steps/{index}/save/", form.data)
        assert saved.status_code == 302
    # Then the API exports exactly what was imported, and it still validates the same
    exported = api.get("/workflows/orders").json()["definition"]
    assert exported["steps"] == EVERY_FIELD["steps"]
    assert exported == EVERY_FIELD
    assert validate(exported, workspace) == validate(EVERY_FIELD, workspace)
