"""API test fixtures: a key of the `workspace`, and a JSON client that sends it."""

import pytest

from tests.api import ECHO_WORKFLOW, Api


@pytest.fixture
def api_key(workspace):
    from core.models import ApiKey

    return ApiKey.issue(workspace, "tests")[1]


@pytest.fixture
def api(client, api_key):
    return Api(client, api_key)


@pytest.fixture
def brickwork(live_server, api_key):
    from core.client import Brickwork

    return Brickwork(api_key=api_key, base_url=live_server.url)


@pytest.fixture
def echo_workflow(workspace):
    """A published two-step workflow `echo` of the `workspace`."""
    from builder.definition import validate
    from builder.models import Workflow

    workflow = Workflow.objects.create(
        workspace=workspace, slug="echo", name="Echo twice", draft=ECHO_WORKFLOW
    )
    workflow.publish(validate(ECHO_WORKFLOW, workspace))
    return workflow
