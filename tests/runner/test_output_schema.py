"""An action's `output_schema` is checked by the worker once the action returns."""

import pytest

from core.actions.custom import save_custom_action
from core.models import ActionKind
from tests.runs import attempts_of, start, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

USER_SCHEMA = {
    "type": "object",
    "properties": {
        "body": {
            "type": "object",
            "properties": {"id": {"type": "integer"}},
            "required": ["id"],
        }
    },
}


@pytest.fixture
def fetch_user(workspace, http_server):
    """A team's HTTP action that promises `body.id` is an integer."""
    http_server.clear()
    return save_custom_action(
        workspace,
        name="crm.fetch_user",
        kind=ActionKind.HTTP,
        config={"method": "GET", "url": http_server.url + "{{ input.path }}"},
        input_schema={"type": "object", "properties": {"path": {"type": "string"}}},
        output_schema=USER_SCHEMA,
    )


def test_an_output_that_breaks_the_schema_fails_the_step_without_retry(
    worker, workspace, http_server, fetch_user
):
    # Given a server whose answer breaks the action's promise
    http_server.respond("/users/bad", [(200, {"id": "x"}, {})])
    # When a step with a generous retry policy runs the action on a real worker
    run = start(
        workspace,
        [
            {
                "key": "fetch",
                "action": "crm.fetch_user",
                "input": {"path": "/users/bad"},
                "retry": {"max_attempts": 4, "initial_interval_s": 0},
            }
        ],
    )
    run = wait_for(run)
    # Then the step failed at its first attempt, with an error naming the field
    assert run.status == "failed"
    [attempt] = attempts_of(run, "fetch")
    assert attempt.status == "failed"
    assert attempt.error["type"] == "InvalidOutput"
    assert attempt.error["retryable"] is False
    assert attempt.error["message"] == "output.body.id: 'x' is not of type 'integer'"
    assert attempt.error["details"]["fields"] == {
        "output.body.id": ["'x' is not of type 'integer'"]
    }
    assert len(http_server.requests) == 1


def test_an_output_that_keeps_the_schema_passes(worker, workspace, http_server, fetch_user):
    http_server.respond("/users/good", [(200, {"id": 7}, {})])
    run = start(
        workspace, [{"key": "fetch", "action": "crm.fetch_user", "input": {"path": "/users/good"}}]
    )
    run = wait_for(run)
    assert run.status == "succeeded"
    assert run.steps.get(key="fetch").output["body"] == {"id": 7}
