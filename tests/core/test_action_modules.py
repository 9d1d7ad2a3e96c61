"""A team's own Python functions become actions through ACTION_MODULES."""

import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.actions.registry import REGISTRY, sync_actions
from core.models import ActionVersion
from runner import executor, launch
from runner.models import Attempt
from tests.runs import start

pytestmark = pytest.mark.django_db
MODULE = "tests.core.example_actions"


@pytest.fixture
def team_module(settings):
    settings.ACTION_MODULES = [MODULE]
    yield MODULE
    REGISTRY.pop("acme.shout", None)
    sys.modules.pop(MODULE, None)


def test_a_listed_module_s_actions_are_synced_and_run(team_module, workspace):
    # Given ACTION_MODULES naming a module with an @action function
    # When the actions are synced (as after every migrate)
    sync_actions()
    # Then it is a versioned action of every workspace, with its declared schema
    version = ActionVersion.objects.get(action__name="acme.shout", action__workspace=None)
    assert version.ref == "acme.shout@1" and version.input_schema["required"] == ["text"]
    # And a workflow step runs it (inline: it is declared pure) and passes its output on
    run = start(
        workspace,
        [
            {"key": "shout", "action": "acme.shout", "input": {"text": "{{ input.text }}"}},
            {
                "key": "echo",
                "action": "debug.echo",
                "input": {"got": "{{ steps.shout.output.text }}"},
            },
        ],
        input={"text": "hello"},
    )
    executor.execute_attempt(Attempt.objects.get(run=run).id, "test-worker", send=launch.send)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.output == {"got": "HELLO"}


def test_a_module_that_cannot_be_imported_is_a_configuration_error(settings):
    settings.ACTION_MODULES = ["tests.core.no_such_module"]
    with pytest.raises(ImproperlyConfigured, match="tests.core.no_such_module"):
        sync_actions()
