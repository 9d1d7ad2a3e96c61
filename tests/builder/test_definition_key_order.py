"""A workflow's definition keeps the key order it was written in, wherever it is shown:
the API, the export, the builder's step panel, the version page and an import. PostgreSQL's
jsonb sorts the keys it stores (core/key_order.py); SQLite keeps them, so the tests pass
there without the sidecar's help."""

import html
import json

import pytest
from django.db import connection
from django.test import Client

from builder.definition import validate
from builder.models import Workflow, WorkflowVersion
from core.models import ApiKey
from runner.models import Run
from tests.api import Api

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# Keys in an order jsonb would not keep (it stores shorter keys first, then bytewise), at
# every level: the run input's schema, a step's input, an object in it, a list of records.
DEFINITION = {
    "name": "Ordered",
    "input_schema": {
        "type": "object",
        "properties": {"zeta": {"type": "integer", "default": 1}, "beta": {"type": "string"}},
    },
    "steps": [
        {
            "key": "first",
            "action": "debug.echo",
            "input": {
                "zeta": "{{ input.zeta }}",
                "beta": {"yankee": 1, "xray": [{"mike": 1, "kilo": 2}, {"mike": 3, "kilo": 4}]},
            },
        }
    ],
}


def shape(value):
    """`value` with each object as its list of (key, value) pairs: equal only in one order."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [shape(item) for item in value]
    return value


def in_order(text, *keys):
    """Whether `"key":` occurs in `text` (JSON, or JSON escaped into HTML) in this order."""
    text = html.unescape(text)
    positions = [text.find(f'"{key}":') for key in keys]
    assert -1 not in positions, (keys, text[:2000])
    return positions == sorted(positions)


@pytest.fixture
def api(workspace):
    return Api(Client(), ApiKey.issue(workspace, "tests")[1])


@pytest.fixture
def published(api):
    """`ordered`, created and published through the API."""
    response = api.put("/workflows/ordered?publish=1", DEFINITION)
    assert response.status_code == 201, response.content
    return Workflow.objects.get(slug="ordered")


def page(user):
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return client


def url(path=""):
    return f"/w/acme/workflows/ordered/{path}"


def test_the_database_alone_would_sort_the_keys(published):
    # Given the definition as the database stores it, read without its key order
    stored = Workflow.objects.values_list("draft", flat=True).get(id=published.id)
    step_input = list(stored["steps"][0]["input"])
    # Then PostgreSQL has sorted it (so the tests below prove something there)
    if connection.vendor == "postgresql":
        assert step_input == ["beta", "zeta"]
        assert published.draft_keys is not None
    else:
        assert step_input == ["zeta", "beta"]


def test_the_api_gives_the_draft_and_versions_back_in_their_order(api, published):
    # When the workflow and its version are read back through the API
    body = api.get("/workflows/ordered").json()
    version = api.get("/workflows/ordered/versions/1").json()
    listed = api.get("/workflows/ordered/versions").json()
    # Then the draft is exactly what was written, keys in order at every level
    assert shape(body["definition"]) == shape(DEFINITION)
    # And the version is the normalized definition in the order it was published in
    normalized = validate(DEFINITION, published.workspace)
    assert list(normalized["steps"][0]) == ["key", "action", "input", "after"]
    for definition in (body["latest_version"]["definition"], version["definition"]):
        assert shape(definition) == shape(normalized)
    assert shape(listed[0]["definition"]) == shape(normalized)
    # And the response text itself lists them so
    text = api.get("/workflows/ordered").content.decode()
    assert in_order(text, "zeta", "beta") and in_order(text, "yankee", "xray")


def test_export_keeps_the_order_of_the_draft_and_of_a_version(alice, published):
    client = page(alice)
    draft = json.loads(client.get(url("export/")).content)
    version = json.loads(client.get(url("export/?version=1")).content)
    assert shape(draft) == shape(DEFINITION)
    assert shape(version) == shape(validate(DEFINITION, published.workspace))


def test_the_step_panel_and_the_version_page_show_the_order(alice, published):
    client = page(alice)
    # The step panel's input (the JSON text area the typed fields write into)
    panel = client.get(url("steps/0/"), **HTMX).content.decode()
    assert in_order(panel, "zeta", "beta", "yankee", "xray", "mike", "kilo")
    # The builder page around it
    assert client.get(url()).status_code == 200
    # The version page's JSON: the step's fields as normalized, the input as written
    text = client.get(url("versions/1/")).content.decode()
    assert in_order(text, "key", "action", "input", "after")
    assert in_order(text, "zeta", "beta", "yankee", "xray", "mike", "kilo")
    assert in_order(text, "type", "properties")


def test_an_edit_in_the_builder_keeps_the_order_of_the_rest(alice, published):
    # When a step is saved from the panel (a partial save: update_fields)
    data = {"key": "first", "action": "debug.echo@1", "input": json.dumps({"b": 1, "a": 2})}
    client = page(alice)
    assert client.post(url("steps/0/save/"), data, **HTMX).status_code == 200
    # Then the new input and the untouched schema both keep the order they were written in
    workflow = Workflow.objects.get(id=published.id)
    assert list(workflow.draft["steps"][0]["input"]) == ["b", "a"]
    assert list(workflow.draft["input_schema"]["properties"]) == ["zeta", "beta"]


def test_import_keeps_the_order(alice, published):
    # When a definition is pasted on the import page, then published from the builder
    text = json.dumps({**DEFINITION, "name": "Imported"})
    client = page(alice)
    assert client.post(url("import/"), {"definition": text}).status_code == 302
    assert client.post(url("publish/"), {"note": "imported"}, **HTMX).status_code == 200
    # Then the draft and the new version come back in that order
    workflow = Workflow.objects.get(id=published.id)
    assert shape(workflow.draft) == shape({**DEFINITION, "name": "Imported"})
    version = WorkflowVersion.objects.get(workflow=workflow, number=2)
    step_input = version.definition["steps"][0]["input"]
    assert shape(step_input) == shape(DEFINITION["steps"][0]["input"])


def test_a_row_read_without_its_definition_loads_nothing_more(published):
    # A deferred definition is not fetched to put its order back
    version = WorkflowVersion.objects.only("id", "definition_keys").get(workflow=published)
    assert "definition" not in version.__dict__
    row = Workflow.objects.only("id", "draft").get(id=published.id)
    assert shape(row.draft["steps"][0]["input"]) != [] and "draft_keys" not in row.__dict__


def test_the_step_panel_s_sample_input_is_the_last_run_s_in_its_order(alice, published):
    # Given a run of the workflow whose input's keys are in an order jsonb does not keep
    version = published.latest_version()
    Run.objects.create(
        workspace=published.workspace,
        workflow=published,
        workflow_version=version,
        definition=version.definition,
        input={"whiskey": 1, "papa": {"oscar": 1, "lima": 2}},
    )
    # Then the step panel offers it as the sample to test a step with, in that order
    panel = page(alice).get(url("steps/0/"), **HTMX).content.decode()
    assert in_order(panel, "whiskey", "papa", "oscar", "lima")
