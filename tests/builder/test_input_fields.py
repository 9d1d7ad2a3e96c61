"""The step panel's typed input fields: one widget per schema type, references kept as
typed, the validator's errors next to their field, and the autocomplete's sources drawn
from this workspace only."""

import json

import pytest
from django.test import Client

from builder.input_fields import field_errors, input_fields
from builder.models import Workflow
from core.models import Secret
from runner.models import Run, StepRun

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "description": "Shown first"},
        "body": {"type": "string", "maxLength": 5000},
        "count": {"type": "integer", "default": 3},
        "ratio": {"type": "number"},
        "urgent": {"type": "boolean"},
        "method": {"type": "string", "enum": ["GET", "POST"]},
        "token": {"type": "string", "format": "secret"},
        "headers": {"type": "object"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "anything": {"description": "no type"},
    },
    "required": ["title", "token"],
}


def by_name(fields):
    return {item.name: item for item in fields}


# ---- Generation from the schema (no database) -------------------------------------------


def test_each_type_gets_its_widget_and_required_fields_are_marked():
    fields = by_name(input_fields(SCHEMA, {}, secrets=["CRM_TOKEN", "SMTP"]))
    kinds = {name: item.kind for name, item in fields.items()}
    assert kinds == {
        "title": "text",
        "body": "textarea",
        "count": "number",
        "ratio": "number",
        "urgent": "boolean",
        "method": "enum",
        "token": "secret",
        "headers": "json",
        "tags": "json",
        "anything": "json",
    }
    assert {name for name, item in fields.items() if item.required} == {"title", "token"}
    assert fields["count"].integer and not fields["ratio"].integer
    assert fields["count"].placeholder == "3"
    assert fields["method"].options == [('"GET"', "GET"), ('"POST"', "POST")]
    assert fields["token"].options == ["CRM_TOKEN", "SMTP"]
    assert fields["title"].description == "Shown first"
    assert [item.slot for item in fields.values()][:2] == ["input-0", "input-1"]


def test_values_show_in_their_widgets():
    value = {
        "title": "Hi",
        "count": 7,
        "urgent": True,
        "method": "POST",
        "token": "{{ secrets.SMTP }}",
        "headers": {"X-A": "1"},
    }
    fields = by_name(input_fields(SCHEMA, value, secrets=["SMTP"]))
    assert fields["title"].text == "Hi" and fields["title"].present
    assert fields["count"].text == "7"
    assert fields["urgent"].checked is True
    assert fields["method"].text == '"POST"'
    assert fields["token"].text == "SMTP" and not fields["token"].reference
    assert json.loads(fields["headers"].text) == {"X-A": "1"}
    assert not fields["ratio"].present and fields["ratio"].text == ""


def test_a_reference_shows_the_field_in_reference_mode_whatever_its_type():
    value = {"count": "{{ steps.fetch.output.total }}", "title": "Hello {{ input.name }}"}
    fields = by_name(input_fields(SCHEMA, value))
    assert fields["count"].reference and fields["count"].text == "{{ steps.fetch.output.total }}"
    assert fields["title"].reference and fields["title"].text == "Hello {{ input.name }}"


def test_a_value_of_another_type_is_edited_as_json_so_nothing_is_lost():
    fields = by_name(input_fields(SCHEMA, {"count": "many", "urgent": "yes", "method": "PUT"}))
    assert fields["count"].kind == "json" and fields["count"].text == '"many"'
    assert fields["urgent"].kind == "json"
    assert fields["method"].kind == "json"


def test_no_properties_no_fields_and_the_ui_hint_wins():
    assert input_fields({"type": "object"}, {}) == []
    assert input_fields("not a schema", {}) == []
    hinted = by_name(input_fields(SCHEMA, {}, ui={"title": "textarea", "body": "line"}))
    assert hinted["title"].kind == "textarea" and hinted["body"].kind == "text"


def test_a_line_hint_on_a_string_or_list_field_gives_a_line_for_one_string():
    schema = {
        "properties": {
            "to": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
        }
    }
    one = by_name(input_fields(schema, {"to": "ada@example.com"}, ui={"to": "line"}))["to"]
    assert one.kind == "text" and one.text == "ada@example.com"
    # A list is not lost: it is edited as JSON
    many = by_name(input_fields(schema, {"to": ["a@x.io", "b@x.io"]}, ui={"to": "line"}))["to"]
    assert many.kind == "json" and json.loads(many.text) == ["a@x.io", "b@x.io"]
    assert by_name(input_fields(schema, {}))["to"].kind == "json"  # no hint: JSON as before


def test_validator_errors_land_on_their_field():
    fields = input_fields(SCHEMA, {})
    errors = {
        "steps[2].input.title": ["is required"],
        "steps[2].input.headers.X-A": ["1 is not of type 'string'"],
        "steps[2].input": ["something general"],
        "steps[1].input.title": ["another step's"],
    }
    assert field_errors(fields, errors, 2) == {
        "input-0": ["is required"],
        "input-7": ["X-A: 1 is not of type 'string'"],
    }


# ---- The panel through the test client --------------------------------------------------

pytestmark = pytest.mark.django_db

HTTP_STEPS = [
    {"key": "fetch", "action": "debug.echo@1", "input": {}},
    {
        "key": "call",
        "action": "http.request@1",
        "input": {"method": "POST", "url": "{{ steps.fetch.output.url }}", "timeout": "soon"},
    },
]


@pytest.fixture
def workflow(workspace, alice):
    return Workflow.objects.create(
        workspace=workspace,
        slug="calls",
        name="Calls",
        draft={
            "name": "Calls",
            "input_schema": {"type": "object", "properties": {"email": {"type": "string"}}},
            "steps": HTTP_STEPS,
        },
        created_by=alice,
    )


def panel(user, index=1):
    client = Client(raise_request_exception=True)
    client.force_login(user)
    response = client.get(f"/w/acme/workflows/calls/steps/{index}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_renders_typed_fields_with_errors_beside_them(workflow, alice):
    html = panel(alice)
    # method is an enum, url a reference, timeout a number holding a string (edited as JSON)
    assert '<select id="tf-0" data-typed' in html
    assert 'value="&quot;POST&quot;" selected' in html
    assert 'id="tr-1" class="mono" role="combobox"' in html
    assert 'value="{{ steps.fetch.output.url }}"' in html
    assert 'data-field="url" data-present="true" data-kind="text" data-mode="ref"' in html
    assert 'data-field="timeout" data-present="true" data-kind="json"' in html
    # the validator's error about `timeout` sits next to it, and in the JSON view's list too
    timeout_slot = html.split('data-field="timeout"', 1)[1].split('class="typed-field"', 1)[0]
    assert "is not of type" in timeout_slot
    assert 'id="f-input" name="input"' in html  # the JSON view stays, for power users
    assert 'aria-controls="input-json">JSON</button>' in html


def test_autocomplete_offers_input_upstream_outputs_and_this_workspace_secrets(
    workflow, workspace, other_workspace, alice
):
    Secret.objects.create(workspace=workspace, name="CRM_TOKEN", value="tok-123456")
    Secret.objects.create(workspace=other_workspace, name="GLOBEX_KEY", value="glx-123456")
    # the upstream step's last run output names its fields (echo declares no output schema)
    run = Run.objects.create(workspace=workspace, workflow=workflow, definition={}, input={})
    StepRun.objects.create(run=run, key="fetch", status="succeeded", output={"url": "https://x"})
    # another workspace's workflow with the same slug and step keys
    theirs = Workflow.objects.create(
        workspace=other_workspace, slug="calls", name="Calls", draft={"steps": HTTP_STEPS}
    )
    other_run = Run.objects.create(
        workspace=other_workspace, workflow=theirs, definition={}, input={}
    )
    StepRun.objects.create(run=other_run, key="fetch", status="succeeded", output={"leak": 1})
    html = panel(alice)
    listbox = html.split('id="tl-0"', 1)[1].split("</ul>", 1)[0]
    refs = set(__import__("re").findall(r'data-ref="([^"]+)"', listbox))
    assert refs == {
        "input",
        "input.email",
        "steps.fetch.output",
        "steps.fetch.output.url",
        "secrets.CRM_TOKEN",
        "run.id",
        "item",  # offered, hidden until the step's for_each is set (the browser shows them)
        "item_index",
    }
    assert 'data-ref="item" aria-selected="false" data-for-each-only hidden' in listbox
    assert "GLOBEX_KEY" not in html and "leak" not in html
    # the first step depends on nothing: no steps.* to offer
    first = panel(alice, 0)
    assert "steps.fetch" not in first.split('id="f-input"', 1)[0]


def test_a_declared_output_schema_names_the_fields(workflow, workspace, alice):
    from core.actions.custom import save_custom_action
    from core.models import ActionKind

    save_custom_action(
        workspace,
        name="crm.lookup",
        kind=ActionKind.HTTP,
        config={"method": "GET", "url": "https://example.com/{{ input.id }}"},
        input_schema={"type": "object", "properties": {"id": {"type": "string"}}},
        output_schema={"type": "object", "properties": {"status": {}, "body": {}}},
    )
    workflow.draft = {
        "name": "Calls",
        "steps": [
            {"key": "look", "action": "crm.lookup", "input": {"id": "1"}},
            {"key": "nap", "action": "debug.sleep@1", "input": {"ms": 1}},
        ],
    }
    workflow.save()
    html = panel(alice)
    assert 'data-ref="steps.look.output.status"' in html
    assert 'data-ref="steps.look.output.body"' in html


def test_a_secret_field_picks_among_the_workspace_secret_names(workspace, alice):
    from core.actions.custom import save_custom_action
    from core.models import ActionKind

    Secret.objects.create(workspace=workspace, name="CRM_TOKEN", value="tok-123456")
    save_custom_action(
        workspace,
        name="crm.auth",
        kind=ActionKind.HTTP,
        config={"method": "GET", "url": "https://example.com/", "headers": {}},
        input_schema={
            "type": "object",
            "properties": {"token": {"type": "string", "format": "secret"}},
            "required": ["token"],
        },
    )
    Workflow.objects.create(
        workspace=workspace,
        slug="calls",
        name="Calls",
        draft={
            "steps": [
                {"key": "a", "action": "crm.auth", "input": {"token": "{{ secrets.CRM_TOKEN }}"}}
            ]
        },
    )
    html = panel(alice, 0)
    assert 'data-kind="secret"' in html
    assert '<option value="CRM_TOKEN" selected>CRM_TOKEN</option>' in html
    assert "tok-123456" not in html
