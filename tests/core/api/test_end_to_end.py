"""A definition PUT through the API, published, run through the client with `wait`."""

import pytest

from tests.api import ECHO_WORKFLOW

pytestmark = pytest.mark.django_db(transaction=True)


def test_put_publish_run_with_wait_then_read_steps_and_attempts(brickwork, worker):
    # Given a definition imported and published through the client
    workflow = brickwork.workflow("echo")
    published = workflow.put(ECHO_WORKFLOW, publish=True)
    assert published["latest_version"]["number"] == 1
    # When it runs with wait
    run = workflow.run({"n": 7}, wait=20)
    # Then the answer has the output
    assert run.status == "succeeded"
    assert run.output == {"m": 7}
    # And GET /api/v1/runs/<id> shows the steps and their attempts
    run.refresh()
    assert [step["key"] for step in run.steps] == ["first", "second"]
    for step in run.steps:
        assert step["status"] == "succeeded" and step["kind"] == "action"
        assert step["action"] == "debug.echo@1"
        [attempt] = step["attempts"]
        assert attempt["number"] == 1 and attempt["status"] == "succeeded"
        assert attempt["worker"] and attempt["duration_ms"] is not None
        assert attempt["started_at"] and attempt["ended_at"]
    assert run.steps[0]["input"] == {"n": 7}
    assert run.steps[1]["output"] == {"m": 7}
