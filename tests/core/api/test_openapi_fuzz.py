"""Property-based requests over /api/v1/openapi.json: no 5xx, no answer off the schema.

Schemathesis reads the document the live server serves, generates valid and invalid
requests for every operation, sends them with a real key and checks every answer: no
server error, a documented status, a body matching its schema. Bounded in examples.
"""

import json

import pytest
import schemathesis
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.core.parameters import ParameterLocation

from builder.models import Trigger
from core.models import ApiKey
from tests.runs import start

pytestmark = pytest.mark.django_db(transaction=True)
# Names that would make a worker reach outside the machine or send mail.
REAL_WORLD = ("http.request", "email.send")


@override_settings(API_RATE_LIMIT_PER_MINUTE=0)
def test_api_answers_within_its_schema(live_server, workspace, echo_workflow, alice):
    # Given an owner key (every operation reaches its own checks), and objects that exist,
    # so that some requests reach past the 404s
    api_key = ApiKey.issue(workspace, "fuzz", "owner")[1]
    run = start(workspace, [{"key": "a", "action": "debug.echo"}])
    trigger = Trigger.objects.create(workflow=echo_workflow, token=Trigger.new_token())
    other_key, _ = ApiKey.issue(workspace, "another")
    existing = {
        "slug": "echo",
        "name": "debug.echo",
        "run_id": run.id,
        "trigger_id": trigger.id,
        "version": 1,
        "number": 1,
        "member_id": alice.memberships.get().id,
        "key_id": other_key.id,
    }
    # When schemathesis sends valid and invalid requests, to random and to existing objects
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    cases = (
        schema.as_strategy(GenerationMode.POSITIVE)
        | schema.as_strategy(GenerationMode.NEGATIVE)
        | schema.as_strategy(GenerationMode.POSITIVE, path_parameters=existing)
        | schema.as_strategy(GenerationMode.NEGATIVE, path_parameters=existing)
    )

    @given(case=cases)
    @settings(
        max_examples=400,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def answers_within_schema(case):
        # Then no answer is a 5xx or off the schema (status, content type, body, headers)
        sent = json.dumps([case.path_parameters, case.body], default=str)
        if any(name in sent for name in REAL_WORLD):
            return
        wait = case.body.get("wait") if isinstance(case.body, dict) else None
        if isinstance(wait, int | float) and not isinstance(wait, bool) and 0 < wait <= 30:
            case.body["wait"] = min(wait, 0.1)  # a valid wait, without the long hold
        # A request can fit the schema and still be refused with a 422 on purpose: an
        # action unknown to a definition, an input the action's own schema refuses.
        excluded = [positive_data_acceptance]
        headers = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
        if headers is not None and headers.mode == GenerationMode.NEGATIVE:
            # Its broken headers are replaced by a valid key below: the request may be valid
            excluded.append(negative_data_rejection)
        case.call_and_validate(
            headers={"Authorization": f"Bearer {api_key}"}, excluded_checks=excluded
        )

    answers_within_schema()
