"""Any draft, however broken, renders in the builder with its errors shown, and the API
answers a wrong-typed field with 422 and its path: never a 500."""

import json

import pytest
from django.test import Client
from django.utils.html import escape

from builder.models import Workflow
from tests.api import Api, error_of

pytestmark = pytest.mark.django_db

GOOD_STEP = {"key": "greet", "action": "debug.echo@1", "input": {"hello": "x"}}
WRONG_VALUES = [7, 2.5, True, "text", [], ["a", 1], {}, {"x": {"y": 1}}, None]
STEP_FIELDS = ["key", "action", "input", "after", "retry", "timeout_s", "compensate", "name"]
NESTED = [
    ("retry", f)
    for f in (
        "max_attempts",
        "initial_interval_s",
        "backoff_coefficient",
        "max_interval_s",
        "jitter",
    )
] + [("compensate", f) for f in ("action", "input", "retry", "timeout_s")]


def broken_steps():
    for field in STEP_FIELDS:
        for value in WRONG_VALUES:
            yield field, {**GOOD_STEP, field: value}
    for parent, field in NESTED:
        base = {"action": "debug.echo@1", "input": {}} if parent == "compensate" else {}
        for value in WRONG_VALUES:
            yield f"{parent}.{field}", {**GOOD_STEP, parent: {**base, field: value}}


CASES = list(broken_steps())


@pytest.mark.parametrize("field, step", CASES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(CASES)])
def test_a_step_field_of_any_type_renders_and_is_refused_with_its_path(
    client, alice, workspace, field, step
):
    from core.models import ApiKey

    # Given a step with one field of some type, through the API
    api = Api(client, ApiKey.issue(workspace, "t")[1])
    response = api.put("/workflows/broken", {"steps": [step]})
    # Then it is accepted, or refused with 422 and the field's path
    assert response.status_code in (201, 422), response.content
    fields = error_of(response)["fields"] if response.status_code == 422 else {}
    if fields:
        assert any(path.startswith(f"steps[0].{field}") for path in fields), fields
    # And saved anyway as the draft, every builder page renders it, with its errors shown
    Workflow.objects.update_or_create(
        workspace=workspace, slug="broken", defaults={"draft": {"steps": [step]}}
    )
    browser = Client(raise_request_exception=False)
    browser.force_login(alice)
    base = "/w/acme/workflows/broken/"
    for path in ("", "?step=0", "settings/", "publish/", "run/", "versions/", "export/", "import/"):
        page = browser.get(base + path)
        assert page.status_code < 400, (path, page.status_code)
    html = browser.get(base).content.decode()  # the problems list: every error, by path
    for messages in fields.values():
        assert any(escape(message) in html for message in messages), messages


# (None: the whole definition is the value; a stored draft is never SQL NULL.)
TOP_CASES = [(None, value) for value in WRONG_VALUES if value is not None] + [
    (field, value)
    for field in ("name", "description", "input_schema", "steps")
    for value in WRONG_VALUES
]


@pytest.mark.parametrize("field, value", TOP_CASES)
def test_a_definition_field_of_any_type_renders_and_is_refused_with_its_path(
    client, alice, workspace, field, value
):
    from core.models import ApiKey

    definition = value if field is None else {"steps": [GOOD_STEP], field: value}
    api = Api(client, ApiKey.issue(workspace, "t")[1])
    response = api.put("/workflows/broken", definition)
    assert response.status_code in (201, 400, 422), response.content
    if response.status_code != 201:
        assert error_of(response)["message"]
    Workflow.objects.update_or_create(
        workspace=workspace, slug="broken", defaults={"draft": definition}
    )
    browser = Client(raise_request_exception=False)
    browser.force_login(alice)
    for path in ("", "settings/", "publish/", "run/", "export/", "import/"):
        page = browser.get("/w/acme/workflows/broken/" + path)
        assert page.status_code < 400, (path, page.status_code)


DANGLING = {
    "type": "object",
    "properties": {"n": {"$ref": "#/$defs/missing"}},
    "required": ["n"],
}


def test_an_input_schema_with_a_dangling_ref_is_a_422_when_a_run_starts(client, alice, workspace):
    from core.models import ApiKey

    # A schema whose `$ref` points at nothing is refused when saved
    api = Api(client, ApiKey.issue(workspace, "t")[1])
    definition = {"input_schema": DANGLING, "steps": [GOOD_STEP]}
    refused = api.put("/workflows/dangling?publish=1", definition)
    assert refused.status_code == 422 and "input_schema" in str(error_of(refused)["fields"])
    # Given one published before schemas were checked when saved
    workflow = Workflow.objects.create(workspace=workspace, slug="dangling", name="Dangling")
    workflow.publish({"name": "Dangling", **definition})
    # When a run is started, through the API and from the builder's run form
    response = api.post("/workflows/dangling/runs", {"input": {"n": 1}})
    # Then the answer is a 422 on the input, not a 500
    assert response.status_code == 422, response.content
    assert error_of(response)["fields"]["input"]
    browser = Client()
    browser.force_login(alice)
    for path in ("", "settings/", "run/", "publish/"):
        response = browser.get(f"/w/acme/workflows/dangling/{path}")
        assert response.status_code < 500, (path, response.status_code)
    response = browser.post("/w/acme/workflows/dangling/run/", {"input": '{"n": 1}'})
    assert response.status_code == 422, response.status_code


def test_a_step_whose_action_schema_has_a_dangling_ref_is_a_field_error(client, alice, workspace):
    from core.actions.custom import save_custom_action
    from core.errors import FieldErrors
    from core.models import Action, ActionVersion, ApiKey

    # A workspace action whose input schema points at nothing is refused when saved
    config = {"method": "POST", "url": "http://127.0.0.1:9/"}
    with pytest.raises(FieldErrors) as refused:
        save_custom_action(
            workspace, name="crm.update", kind="http", config=config, input_schema=DANGLING
        )
    assert "input_schema" in refused.value.fields
    # Given one saved before schemas were checked when saved
    action = Action.objects.create(workspace=workspace, name="crm.update")
    ActionVersion.objects.create(
        action=action, version=1, kind="http", input_schema=DANGLING, config=config
    )
    step = {"key": "update", "action": "crm.update", "input": {"n": 1}}
    # When a workflow uses it, through the API and in the builder
    api = Api(client, ApiKey.issue(workspace, "t")[1])
    response = api.put("/workflows/crm", {"steps": [step]})
    # Then the step's input is the field in error
    assert response.status_code == 422, response.content
    assert "cannot be used" in error_of(response)["fields"]["steps[0].input"][0]
    Workflow.objects.filter(slug="crm").update(draft={"steps": [step]}) or Workflow.objects.create(
        workspace=workspace, slug="crm", name="Crm", draft={"steps": [step]}
    )
    browser = Client()
    browser.force_login(alice)
    for path in ("", "?step=0", "settings/"):
        page = browser.get(f"/w/acme/workflows/crm/{path}")
        assert page.status_code < 400, (path, page.status_code)
    assert "cannot be used" in browser.get("/w/acme/workflows/crm/").content.decode()
    # And running the action alone is refused the same way
    response = browser.post("/w/acme/actions/crm.update/run", {"n": "1"})
    assert response.status_code == 422


@pytest.mark.parametrize("compensate", [5, "undo", ["a"]])
def test_a_broken_import_saved_anyway_still_opens_in_the_builder(alice, workspace, compensate):
    # Given a definition whose compensate is not an object, imported with "save anyway"
    Workflow.objects.create(workspace=workspace, slug="broken", name="Broken", draft={})
    browser = Client()
    browser.force_login(alice)
    definition = {"steps": [{**GOOD_STEP, "compensate": compensate}]}
    response = browser.post(
        "/w/acme/workflows/broken/import/",
        {"definition": json.dumps(definition), "save_invalid": "on"},
    )
    assert response.status_code == 302
    # Then the builder opens it, naming the problem, every time
    for _ in range(2):
        page = browser.get("/w/acme/workflows/broken/")
        assert page.status_code == 200
        assert "must be an object with an action and an input" in page.content.decode()
