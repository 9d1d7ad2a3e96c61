"""Schemas written by users cannot hurt the server: no remote `$ref`, no backtracking regex.

Run starts are measured against a live server while a thread keeps asking /healthz.
"""

import copy
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from builder.definition import validate
from builder.models import Trigger, Workflow
from core.models import ApiKey
from tests.api import error_of

EVIL = "a" * 40 + "!"  # ^(a+)+$ on this takes hours with a backtracking engine
CATASTROPHIC = {
    "name": "Catastrophic",
    "input_schema": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": "^(a+)+$"},
            "body": {
                "type": "object",
                "properties": {"name": {"type": "string", "pattern": "^(a+)+$"}},
            },
        },
        "patternProperties": {"^(b+)+$": {"type": "integer"}},
        "additionalProperties": {"type": "object"},
    },
    "steps": [{"key": "echo", "action": "debug.echo", "input": {"v": 1}}],
}


def _with_input_schema(schema):
    return {**copy.deepcopy(CATASTROPHIC), "input_schema": schema}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "schema, message",
    [
        ({"$ref": "http://127.0.0.1:9/person.json"}, "/: $ref 'http://127.0.0.1:9/person.json'"),
        ({"properties": {"a": {"$ref": "#/$defs/missing"}}}, "/properties/a: $ref"),
        ({"properties": {"a": {"pattern": "(a)\\1"}}}, "/properties/a: the pattern"),
        ({"patternProperties": {"(?<=x)y": {}}}, "RE2 syntax"),
        (
            {"patternProperties": {"^x": {}}, "unevaluatedProperties": False},
            "cannot be combined",
        ),
    ],
)
def test_unsafe_schemas_are_refused_when_saved(api, http_server, schema, message):
    http_server.clear()
    response = api.put("/workflows/unsafe", _with_input_schema(schema))
    assert response.status_code == 422
    [text] = error_of(response)["fields"]["input_schema"]
    assert message in text
    assert not Workflow.objects.exists()
    assert http_server.requests == []


@pytest.mark.django_db
def test_local_references_and_re2_patterns_are_fine(api):
    schema = {
        "$defs": {"name": {"type": "string", "pattern": "^[a-z]+$"}},
        "type": "object",
        "properties": {"who": {"$ref": "#/$defs/name"}},
    }
    response = api.put("/workflows/fine?publish=1", _with_input_schema(schema))
    assert response.status_code == 201, response.json()
    refused = api.post("/workflows/fine/runs", {"input": {"who": "Ada!"}})
    assert error_of(refused)["fields"] == {"input.who": ["'Ada!' does not match '^[a-z]+$'"]}


@pytest.mark.django_db
def test_the_regex_format_is_checked_by_re2(api):
    schema = {"type": "object", "properties": {"p": {"type": "string", "format": "regex"}}}
    assert api.put("/workflows/rx?publish=1", _with_input_schema(schema)).status_code == 201
    assert api.post("/workflows/rx/runs", {"input": {"p": "^[a-z]+$"}}).status_code in (200, 202)
    refused = api.post("/workflows/rx/runs", {"input": {"p": "(a)\\1"}})
    assert error_of(refused)["fields"] == {"input.p": ["'(a)\\\\1' is not a 'regex'"]}


class HealthProbe:
    """Asks /healthz every 50 ms in a thread; records each answer's status and latency."""

    def __init__(self, base_url):
        self.url, self.answers, self.stop = base_url + "/healthz", [], threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self.stop.is_set():
            began = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code  # 503 without a worker is still an answer
            except OSError:
                status = None
            self.answers.append((status, time.monotonic() - began))
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def _post(url, body, headers=None):
    """POST JSON; (status, parsed answer, seconds taken)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    began = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, data = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, data = error.code, error.read()
    return status, json.loads(data), time.monotonic() - began


def _publish(workspace, definition, slug):
    workflow = Workflow.objects.create(workspace=workspace, slug=slug, name=slug)
    workflow.publish(definition)
    trigger = Trigger.objects.create(workflow=workflow, token=Trigger.new_token())
    return workflow, trigger


def _start_runs(live_server, workspace, workflow, trigger, api_input, hook_body):
    key = ApiKey.issue(workspace, "tests")[1]
    with HealthProbe(live_server.url) as probe:
        time.sleep(0.2)
        answers = [
            _post(
                f"{live_server.url}/api/v1/workflows/{workflow.slug}/runs",
                {"input": api_input},
                {"Authorization": f"Bearer {key}"},
            ),
            _post(f"{live_server.url}/hooks/{trigger.token}", hook_body),
        ]
        time.sleep(0.2)
    assert probe.answers and all(status is not None for status, _ in probe.answers)
    assert max(seconds for _, seconds in probe.answers) < 1.0, probe.answers
    for status, body, seconds in answers:
        assert seconds < 1.0, (status, body, seconds)
    return answers


@pytest.mark.django_db(transaction=True)
def test_a_catastrophic_pattern_answers_within_a_second(live_server, workspace):
    # Given a published workflow whose input schema backtracks forever in Python's re
    workflow, trigger = _publish(workspace, validate(CATASTROPHIC, workspace), "evil")
    # When runs are started with inputs made to trigger it, through the API and a webhook
    api_answer, hook_answer = _start_runs(
        live_server,
        workspace,
        workflow,
        trigger,
        api_input={"name": EVIL, "b" * 40 + "!": 1},
        hook_body={"name": EVIL},
    )
    # Then both are refused quickly (the thread's /healthz answered fast all along)
    status, body, _ = api_answer
    assert status == 422
    assert body["error"]["fields"] == {
        "input.name": [f"'{EVIL}' does not match '^(a+)+$'"],
        f"input.{'b' * 40}!": ["1 is not of type 'object'"],
    }
    status, body, _ = hook_answer
    assert status == 422
    assert body["error"]["fields"] == {"input.body.name": [f"'{EVIL}' does not match '^(a+)+$'"]}


@pytest.mark.django_db(transaction=True)
def test_a_stored_remote_ref_is_never_fetched(live_server, workspace, http_server):
    # Given a version saved before remote references were refused, pointing at a server
    http_server.clear()
    definition = validate(CATASTROPHIC, workspace)
    definition["input_schema"] = {"$ref": http_server.url + "/person.json"}
    workflow, trigger = _publish(workspace, definition, "remote")
    # When runs are started through the API and a webhook
    answers = _start_runs(live_server, workspace, workflow, trigger, {"name": "a"}, {"n": 1})
    # Then each is an input error that names the reference, and nothing was fetched
    for status, body, _ in answers:
        assert status == 422, body
        [message] = body["error"]["fields"]["input"]
        assert message.startswith("the schema cannot be used: /: $ref")
    assert http_server.requests == []
