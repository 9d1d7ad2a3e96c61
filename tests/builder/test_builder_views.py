"""The builder's pages through Django's test client: every form and HTMX endpoint answers bad
input with field errors (never a 500), a viewer changes nothing, an outsider finds nothing."""

import json
import re

import pytest
from django.test import Client

from builder.definition import validate
from builder.models import Trigger, Workflow
from runner.models import Run

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
STEPS = [
    {"key": "greet", "action": "debug.echo@1", "input": {"hello": "{{ input.name }}"}},
    {"key": "nap", "action": "debug.sleep@1", "input": {"ms": 1}},
    {"key": "bye", "action": "debug.echo@1", "input": {}},
]


@pytest.fixture
def workflow(workspace, alice):
    return Workflow.objects.create(
        workspace=workspace,
        slug="signup",
        name="Signup",
        draft={"name": "Signup", "steps": STEPS},
        created_by=alice,
    )


def client_of(user):
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return client


def url(path=""):
    return f"/w/acme/workflows/signup/{path}"


def errors_in(response):
    """{slot id: [messages]} of the error lists a builder response carries."""
    found = {}
    for match in re.finditer(
        r'<ul class="errorlist" id="([^"]+)"[^>]*>(.*?)</ul>', _text(response)
    ):
        messages = re.findall(r"<li>(.*?)</li>", match.group(2))
        if messages:
            found[match.group(1)] = messages
    return found


def _text(response):
    return response.content.decode()


def draft_of(workflow):
    workflow.refresh_from_db()
    return workflow.draft


# ---- The workflow list -----------------------------------------------------------------


def test_create_a_workflow_and_open_its_builder(alice):
    response = client_of(alice).post("/w/acme/workflows/", {"name": "Order flow", "slug": ""})
    assert response.status_code == 302
    assert response["Location"] == "/w/acme/workflows/order-flow/"
    workflow = Workflow.objects.get(slug="order-flow")
    assert workflow.draft == {"name": "Order flow", "steps": []}


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "", "slug": ""}, "name", "This field is required."),
        ({"name": "x" * 201, "slug": ""}, "name", "at most 200 characters"),
        ({"name": "Fine", "slug": "not a slug!"}, "slug", "Enter a valid “slug”"),
        ({"name": "Signup", "slug": ""}, "slug", "already exists"),
        ({"name": "!!!", "slug": ""}, "slug", "Give a slug"),
    ],
)
def test_new_workflow_form_errors(alice, workflow, data, field, message):
    response = client_of(alice).post("/w/acme/workflows/", data)
    assert response.status_code == 422
    assert message in response.context["form"].errors[field][0]
    assert Workflow.objects.count() == 1


# ---- Building: add, reorder, move, remove ------------------------------------------------


def test_add_reorder_move_remove(alice, workflow):
    client = client_of(alice)
    response = client.post(url("steps/add/"), {"action": "debug.fail", "position": "1"}, **HTMX)
    assert response.status_code == 200
    assert 'id="step-debug_fail"' in _text(response)
    assert [s["key"] for s in draft_of(workflow)["steps"]] == ["greet", "debug_fail", "nap", "bye"]
    assert draft_of(workflow)["steps"][1]["action"] == "debug.fail@1"

    client.post(url("steps/order/"), {"order": "3,0,1,2"}, **HTMX)
    assert [s["key"] for s in draft_of(workflow)["steps"]] == ["bye", "greet", "debug_fail", "nap"]

    client.post(url("steps/0/move/"), {"direction": "down"}, **HTMX)
    assert [s["key"] for s in draft_of(workflow)["steps"]] == ["greet", "bye", "debug_fail", "nap"]

    client.post(url("steps/2/remove/"), {}, **HTMX)
    assert [s["key"] for s in draft_of(workflow)["steps"]] == ["greet", "bye", "nap"]


def test_removing_a_step_drops_it_from_the_parallel_branches_waiting_for_it(alice, workflow):
    draft = draft_of(workflow)
    draft["steps"][2]["after"] = ["greet", "nap"]
    workflow.draft = draft
    workflow.save()
    client_of(alice).post(url("steps/1/remove/"), {}, **HTMX)
    # `bye` now waits for `greet` only, which is its previous step: no explicit after left
    assert draft_of(workflow)["steps"] == [STEPS[0], STEPS[2]]


@pytest.mark.parametrize(
    "path, data",
    [
        ("steps/add/", {"action": "no.such.action"}),
        ("steps/add/", {"action": ""}),
        ("steps/order/", {"order": "0,1"}),
        ("steps/order/", {"order": "0,0,1"}),
        ("steps/order/", {"order": "a,b,c"}),
        ("steps/0/move/", {"direction": "sideways"}),
    ],
)
def test_bad_edits_are_refused_with_a_message(alice, workflow, path, data):
    before = draft_of(workflow)
    response = client_of(alice).post(url(path), data, **HTMX)
    assert response.status_code == 422
    assert re.search(r'id="announcer"[^>]*>[^<]+\.', _text(response))
    assert draft_of(workflow) == before


@pytest.mark.parametrize("path", ["steps/9/", "steps/9/save/", "steps/3/move/", "steps/9/remove/"])
def test_a_step_that_does_not_exist_is_404(alice, workflow, path):
    client = client_of(alice)
    response = client.get(url(path), **HTMX) if path == "steps/9/" else client.post(url(path))
    assert response.status_code == 404


# ---- The step panel: autosave with field errors ------------------------------------------


def panel_data(**changes):
    data = {
        "key": "nap",
        "action": "debug.sleep@1",
        "input": '{"ms": 1}',
        "after_mode": "default",
        "retry_mode": "default",
        "timeout_s": "",
        "compensate_action": "",
        "compensate_input": "",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "changes, slot, message",
    [
        ({"input": '{"ms": 1'}, "err-input", "not valid JSON"),
        ({"input": '{"ms": "soon"}'}, "err-input", "ms: &#x27;soon&#x27; is not of type"),
        ({"input": "{}"}, "err-input", "ms: is required"),
        ({"input": "[1]"}, "err-input", "must be an object"),
        ({"key": "Bad Key"}, "err-key", "lowercase letters"),
        ({"key": "greet"}, "err-key", "duplicate key"),
        ({"action": "nope"}, "err-action", "unknown action"),
        ({"timeout_s": "abc"}, "err-timeout_s", "must be a number of seconds"),
        ({"timeout_s": "-3"}, "err-timeout_s", "must be between 0"),
        ({"after_mode": "custom", "after": ["ghost"]}, "err-after", "unknown step"),
        ({"after_mode": "custom", "after": ["nap"]}, "err-after", "cannot wait for itself"),
        (
            {"retry_mode": "custom", "retry_max_attempts": "0"},
            "err-retry_max_attempts",
            "between 1 and 100",
        ),
        (
            {"retry_mode": "custom", "retry_max_attempts": "2.5"},
            "err-retry_max_attempts",
            "whole number",
        ),
        (
            {"retry_mode": "custom", "retry_backoff_coefficient": "x"},
            "err-retry_backoff_coefficient",
            "must be a number",
        ),
        (
            {"retry_mode": "custom", "retry_max_interval_s": "1e999"},
            "err-retry_max_interval_s",
            "must be a number",
        ),
        ({"compensate_action": "nope"}, "err-compensate_action", "unknown action"),
        (
            {"compensate_action": "debug.echo@1", "compensate_input": "{"},
            "err-compensate_input",
            "not valid JSON",
        ),
        ({"input": '{"ms": "{{ steps.bye.output }}"}'}, "err-input", "does not run before"),
        ({"input": '{"ms": "{{ nothing.here }}"}'}, "err-input", "unknown reference root"),
        ({"input": '{"ms": NaN}'}, "err-input", "NaN is not JSON"),
        ({"input": '{"ms": "a\\u0000b"}'}, "err-input", "U+0000"),
        ({"input": "[" * 100 + "]" * 100}, "err-input", "nested deeper"),
        ({"key": "na\x00p", "input": '{"ms": 1e999}'}, "err-input", "out of range"),
    ],
)
def test_step_panel_shows_each_error_next_to_its_field(alice, workflow, changes, slot, message):
    response = client_of(alice).post(url("steps/1/save/"), panel_data(**changes), **HTMX)
    assert response.status_code == 200
    errors = errors_in(response)
    assert any(message in text for text in errors.get(slot, [])), errors


def test_autosave_keeps_what_was_typed_even_when_invalid(alice, workflow):
    data = panel_data(input='{"ms": 1', timeout_s="abc")
    client_of(alice).post(url("steps/1/save/"), data, **HTMX)
    step = draft_of(workflow)["steps"][1]
    assert step["input"] == '{"ms": 1' and step["timeout_s"] == "abc"
    # the page shows it back as typed, with its errors
    response = client_of(alice).get(url() + "?step=1")
    assert "{&quot;ms&quot;: 1</textarea>" in _text(response)
    assert 'value="abc"' in _text(response)


def test_renaming_a_key_follows_it_in_references_and_branches(alice, workflow):
    draft = draft_of(workflow)
    draft["steps"][2]["after"] = ["greet"]
    draft["steps"][2]["input"] = {"n": "{{ steps.greet.output.hello }}"}
    workflow.draft = draft
    workflow.save()
    data = panel_data(key="welcome", action="debug.echo@1", input='{"hello": "{{ input.name }}"}')
    client_of(alice).post(url("steps/0/save/"), data, **HTMX)
    steps = draft_of(workflow)["steps"]
    assert steps[0]["key"] == "welcome"
    assert steps[2]["after"] == ["welcome"]
    assert steps[2]["input"] == {"n": "{{ steps.welcome.output.hello }}"}


def test_retry_preview_follows_the_policy(alice, workflow):
    data = panel_data(
        retry_mode="custom",
        retry_max_attempts="4",
        retry_initial_interval_s="2",
        retry_backoff_coefficient="3",
        retry_max_interval_s="10",
        timeout_s="5",
    )
    response = client_of(alice).post(url("steps/1/save/"), data, **HTMX)
    text = _text(response)
    preview = text[text.index('id="retry-preview"') :]
    # delays 2, 6, 10 (capped); no jitter: worst case 2 + 6 + 10 + 4 x 5 = 38 s
    assert re.findall(r"\+(\d+ s)", preview)[:3] == ["2 s", "6 s", "10 s"]
    assert '<strong id="retry-total">38 s</strong>' in preview
    # with jitter each delay may be 20% longer: 18 x 1.2 + 20 = 41.6 s
    data["retry_jitter"] = "on"
    response = client_of(alice).post(url("steps/1/save/"), data, **HTMX)
    assert '<strong id="retry-total">41.6 s</strong>' in _text(response)
    assert draft_of(workflow)["steps"][1]["retry"] == {
        "max_attempts": 4,
        "initial_interval_s": 2,
        "backoff_coefficient": 3,
        "max_interval_s": 10,
        "jitter": True,
    }


def test_retry_preview_warns_when_waiting_dominates(alice, workflow):
    data = panel_data(
        retry_mode="custom",
        retry_max_attempts="10",
        retry_initial_interval_s="60",
        retry_backoff_coefficient="2",
        retry_max_interval_s="3600",
        timeout_s="5",
    )
    response = client_of(alice).post(url("steps/1/save/"), data, **HTMX)
    warnings = re.findall(r'<p class="preview-warning"[^>]*>(.*?)</p>', _text(response))
    assert len(warnings) == 2
    assert "longer than the 10 attempts can run" in warnings[0]
    assert "busy for" in warnings[1]


def test_settings_errors(alice, workflow):
    response = client_of(alice).post(
        url("settings/save/"), {"name": "Signup", "input_schema": '{"type": "objekt"}'}, **HTMX
    )
    assert "not a valid JSON Schema" in " ".join(errors_in(response)["err-settings-input_schema"])
    response = client_of(alice).post(
        url("settings/save/"), {"name": "Signup", "input_schema": "{"}, **HTMX
    )
    assert "not valid JSON" in " ".join(errors_in(response)["err-settings-input_schema"])
    assert draft_of(workflow)["input_schema"] == "{"


# ---- Publish, versions, diff --------------------------------------------------------------


def test_publish_refuses_an_invalid_draft(alice, workflow):
    draft = draft_of(workflow)
    draft["steps"][1]["input"] = {}
    workflow.draft = draft
    workflow.save()
    response = client_of(alice).post(url("publish/"), {"note": "try"}, **HTMX)
    assert response.status_code == 422
    assert "ms" in _text(response) and "is required" in _text(response)
    assert not workflow.versions.exists()


def test_publish_diff_and_restore(alice, workflow):
    client = client_of(alice)
    response = client.post(url("publish/"), {"note": "first"}, **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == url()
    response = client.post(url("publish/"), {"note": "again"}, **HTMX)
    assert response.status_code == 422 and "nothing to publish" in _text(response)

    client.post(url("steps/1/remove/"), {}, **HTMX)
    client.post(url("steps/add/"), {"action": "debug.fail"}, **HTMX)
    response = client.post(url("publish/"), {"note": "x" * 501}, **HTMX)
    assert response.status_code == 422 and "at most 500 characters" in _text(response)
    client.post(url("publish/"), {"note": "second"}, **HTMX)
    assert [v.number for v in workflow.versions.all()] == [2, 1]

    response = client.get(url("versions/?from=1&to=2"))
    text = _text(response)
    assert "removed <code>nap</code>" in text and "added <code>debug_fail</code>" in text
    assert client.get(url("versions/?from=abc")).status_code == 404
    assert client.get(url("versions/?from=7")).status_code == 404

    client.post(url("versions/1/restore/"))
    assert [s["key"] for s in draft_of(workflow)["steps"]] == ["greet", "nap", "bye"]


# ---- Import, export, validate --------------------------------------------------------------


def test_export_the_draft_and_a_version(alice, workflow):
    client = client_of(alice)
    response = client.get(url("export/"))
    assert response["Content-Disposition"] == 'attachment; filename="signup-draft.json"'
    assert json.loads(response.content) == draft_of(workflow)
    assert client.get(url("export/?version=3")).status_code == 404
    assert client.get(url("export/?version=x")).status_code == 404


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"definition": ""}, "Paste a definition"),
        ({"definition": "{nope"}, "Not valid JSON"),
        ({"definition": "[1, 2]"}, "A definition is a JSON object"),
        ({"definition": '{"steps": [{"key": "A", "action": "debug.echo"}]}'}, "steps[0].key"),
        ({"definition": '{"steps": [], "extra": 1}'}, "unknown field"),
        ({"definition": '{"steps": [7]}', "save_invalid": "on"}, "steps are objects"),
    ],
)
def test_import_errors_leave_the_draft_alone(alice, workflow, data, expected):
    before = draft_of(workflow)
    response = client_of(alice).post(url("import/"), data)
    assert response.status_code == 422
    assert expected in _text(response)
    assert draft_of(workflow) == before


def test_import_a_file_and_save_an_invalid_one_on_request(alice, workflow):
    from django.core.files.uploadedfile import SimpleUploadedFile

    good = {"name": "Imported", "steps": [{"key": "only", "action": "debug.echo", "input": {}}]}
    upload = SimpleUploadedFile("wf.json", json.dumps(good).encode(), "application/json")
    response = client_of(alice).post(url("import/"), {"file": upload})
    assert response.status_code == 302
    assert draft_of(workflow) == good

    bad = {"steps": [{"key": "Bad", "action": "debug.echo"}]}
    data = {"definition": json.dumps(bad), "save_invalid": "on"}
    assert client_of(alice).post(url("import/"), data).status_code == 302
    assert draft_of(workflow) == bad
    # the builder still draws it, with the problem shown
    response = client_of(alice).get(url())
    assert response.status_code == 200 and "1 problem" in _text(response)


def test_validate_as_you_type_on_the_import_page(alice, workflow):
    response = client_of(alice).post(url("validate/"), {"definition": '{"steps": 1}'})
    assert response.status_code == 200
    assert "steps" in _text(response) and "non-empty list" in _text(response)
    response = client_of(alice).post(url("validate/"), {"definition": "{"})
    assert "Not valid JSON" in _text(response)


# ---- Run form -------------------------------------------------------------------------------


def publish_with_schema(workflow, user):
    definition = {
        "name": "Signup",
        "input_schema": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
        },
        "steps": STEPS,
    }
    return workflow.publish(validate(definition, workflow.workspace), "v", user)


def test_run_needs_a_published_version(alice, workflow):
    response = client_of(alice).get(url("run/"))
    assert response.status_code == 200 and "Publish the draft first" in _text(response)


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"input-name": ""}, "This field is required."),
        ({}, "This field is required."),
        ({"input-name": "Ada", "version": "1"}, None),
    ],
)
def test_run_form_made_from_the_input_schema(alice, workflow, data, expected):
    publish_with_schema(workflow, alice)
    response = client_of(alice).post(url("run/"), data)
    if expected is None:
        assert response.status_code == 302
        return
    assert response.status_code == 422
    assert expected in response.context["form"].errors["name"]
    assert not Run.objects.filter(workflow=workflow).exists()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("{", "Not valid JSON"),
        ("[]", "Must be a JSON object"),
        ('{"a": NaN}', "NaN is not JSON"),
    ],
)
def test_run_form_without_a_schema_takes_a_json_object(alice, workflow, text, expected):
    workflow.publish(validate(workflow.draft, workflow.workspace), "v1", alice)
    response = client_of(alice).post(url("run/"), {"input-__input__": text})
    assert response.status_code == 422
    assert expected in " ".join(response.context["form"].errors["__input__"])


def test_run_of_an_unknown_version_is_404(alice, workflow):
    publish_with_schema(workflow, alice)
    assert client_of(alice).get(url("run/?version=9")).status_code == 404
    assert client_of(alice).post(url("run/"), {"version": "x"}).status_code == 404


def test_run_starts_and_redirects_to_the_run_page(
    alice, workflow, django_capture_on_commit_callbacks
):
    publish_with_schema(workflow, alice)
    with django_capture_on_commit_callbacks():
        response = client_of(alice).post(url("run/"), {"input-name": "Ada"})
    assert response.status_code == 302
    assert re.fullmatch(r"/w/acme/runs/\d+/", response["Location"])


# ---- Triggers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": "gh", "signature": "hmac", "input_mode": "envelope"}, "signature_header"),
        ({"name": "gh", "signature": "magic", "input_mode": "envelope"}, "signature"),
        ({"name": "gh", "signature": "none", "input_mode": "xml"}, "input_mode"),
        (
            {"name": "gh", "signature": "none", "input_mode": "body", "event_id_header": "X Id"},
            "event_id_header",
        ),
    ],
)
def test_trigger_form_errors(alice, workflow, data, field):
    response = client_of(alice).post(url("triggers/"), data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not Trigger.objects.exists()


def test_trigger_secret_is_shown_once(alice, workflow):
    client = client_of(alice)
    data = {"name": "stripe", "signature": "timestamped", "input_mode": "body"}
    assert client.post(url("triggers/"), data).status_code == 302
    trigger = Trigger.objects.get()
    assert trigger.secret.startswith("whsec_")
    first = _text(client.get(url("triggers/")))
    assert trigger.secret in first and f"/hooks/{trigger.token}" in first
    second = _text(client.get(url("triggers/")))
    assert trigger.secret not in second and f"/hooks/{trigger.token}" in second
    client.post(url(f"triggers/{trigger.id}/rotate/"))
    old, trigger = trigger.secret, Trigger.objects.get()
    assert trigger.secret != old and trigger.secret in _text(client.get(url("triggers/")))
    client.post(url(f"triggers/{trigger.id}/toggle/"))
    trigger.refresh_from_db()
    assert trigger.enabled is False


# ---- Who may do what --------------------------------------------------------------------------


EDITS = [
    ("steps/add/", {"action": "debug.echo"}),
    ("steps/order/", {"order": "2,1,0"}),
    ("steps/0/move/", {"direction": "down"}),
    ("steps/0/remove/", {}),
    ("steps/0/save/", panel_data(key="hacked")),
    ("settings/save/", {"name": "Hacked"}),
    ("publish/", {"note": "by a viewer"}),
    ("import/", {"definition": '{"steps": []}', "save_invalid": "on"}),
    ("validate/", {"definition": "{}"}),
    ("run/", {"input-__input__": "{}", "version": "1"}),
    ("versions/1/restore/", {}),
    ("triggers/", {"name": "t", "signature": "none", "input_mode": "body"}),
]
PAGES = ["", "settings/", "steps/0/", "versions/", "versions/1/", "export/", "triggers/"]


def test_a_viewer_sees_a_read_only_builder(bob, workflow):
    response = client_of(bob).get(url() + "?step=0")
    text = _text(response)
    assert response.status_code == 200
    assert "You are a viewer" in text
    assert "data-palette" not in text and "Publish…" not in text
    assert '<fieldset class="bare" disabled>' in text


@pytest.mark.parametrize("path, data", EDITS)
def test_a_viewer_cannot_change_anything(bob, alice, workflow, path, data):
    workflow.publish(validate(workflow.draft, workflow.workspace), "v1", alice)
    trigger = Trigger.objects.create(workflow=workflow, token=Trigger.new_token())
    before = draft_of(workflow)
    response = client_of(bob).post(url(path), data, **HTMX)
    assert response.status_code == 404
    assert draft_of(workflow) == before
    assert workflow.versions.count() == 1
    assert list(Trigger.objects.all()) == [trigger]
    for action in ("toggle", "rotate", "delete"):
        toggle = f"triggers/{trigger.id}/{action}/"
        assert client_of(bob).post(url(toggle)).status_code == 404
    assert Trigger.objects.get().enabled


@pytest.mark.parametrize("path", PAGES + [path for path, _ in EDITS])
def test_an_outsider_finds_nothing(charlie, alice, workflow, path):
    workflow.publish(validate(workflow.draft, workflow.workspace), "v1", alice)
    client = client_of(charlie)
    assert client.get(url(path)).status_code == 404
    assert client.post(url(path), {}).status_code == 404
    assert client.get("/w/acme/workflows/").status_code == 404


def test_another_workspaces_workflow_is_404_for_a_member_of_this_one(charlie, workflow):
    from core.models import Membership

    Workflow.objects.create(workspace=charlie.memberships.get().workspace, slug="theirs", name="T")
    Membership.objects.create(workspace=workflow.workspace, user=charlie, role="owner")
    assert client_of(charlie).get("/w/acme/workflows/theirs/").status_code == 404


def test_an_editor_may_build(erin, workflow):
    response = client_of(erin).post(url("steps/add/"), {"action": "debug.echo"}, **HTMX)
    assert response.status_code == 200
    assert len(draft_of(workflow)["steps"]) == 4


def test_a_nul_character_is_dropped_not_a_500(alice, workflow):
    client_of(alice).post(url("steps/1/save/"), panel_data(key="na\x00p"), **HTMX)
    assert draft_of(workflow)["steps"][1]["key"] == "nap"


def test_a_viewer_cannot_create_a_workflow(bob, workflow):
    response = client_of(bob).post("/w/acme/workflows/", {"name": "Mine", "slug": "mine"})
    assert response.status_code == 404
    assert list(Workflow.objects.values_list("slug", flat=True)) == ["signup"]
    assert "New workflow" not in _text(client_of(bob).get("/w/acme/workflows/"))


def test_a_card_clicked_with_its_old_position_opens_its_own_step(alice, workflow):
    # Given a card that still carries position 0 after a drag moved its step to the end
    client = client_of(alice)
    keys = [step["key"] for step in STEPS]
    # When it is clicked, its key goes along
    response = client.get(url("steps/0/"), {"key": keys[-1]}, **HTMX)
    # Then the panel opens the step of that key, not whatever is at position 0 now
    assert f'<span id="panel-key">{keys[-1]}</span>' in _text(response)
    unknown = client.get(url("steps/0/"), {"key": "gone"}, **HTMX)
    assert f'<span id="panel-key">{keys[0]}</span>' in _text(unknown)
