"""Invalid definitions and inputs are refused with field errors; nothing reaches a worker."""

import pytest
from dramatiq import Middleware

from builder.definition import validate
from core.errors import InvalidDefinition, InvalidInput
from runner import launch
from runner.models import Attempt, Run
from runner.tasks import broker
from tests.runs import start, wait_for


class _SentMessages(Middleware):
    """Counts the messages this process hands to the broker, Redis or RabbitMQ."""

    def __init__(self):
        self.count = 0

    def after_enqueue(self, broker, message, delay):
        self.count += 1


_sent = _SentMessages()
broker.add_middleware(_sent)


@pytest.mark.django_db
def test_invalid_definition_is_refused_field_by_field(workspace):
    with pytest.raises(InvalidDefinition) as refused:
        validate(
            {
                "steps": [
                    {"key": "Bad Key", "action": "debug.echo"},
                    {"key": "b", "action": "debug.sleep", "input": {"ms": "soon"}},
                    {"key": "b", "action": "nope.never"},
                    {"key": "d", "action": "debug.fail@99", "retry": {"max_attempts": 0}},
                ]
            },
            workspace,
        )
    fields = refused.value.fields
    assert "steps[0].key" in fields
    assert fields["steps[1].input.ms"] == ["'soon' is not of type 'integer'"]
    assert fields["steps[2].key"] == ["duplicate key 'b'"]
    assert fields["steps[2].action"] == ["unknown action 'nope.never'"]
    assert fields["steps[3].action"] == ["debug.fail has no version 99"]
    assert fields["steps[3].retry.max_attempts"] == ["must be between 1 and 100"]
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_invalid_input_is_refused_before_a_run_exists(workspace):
    definition = validate(
        {
            "input_schema": {
                "type": "object",
                "properties": {"email": {"type": "string"}},
                "required": ["email"],
            },
            "steps": [{"key": "a", "action": "debug.echo", "input": {"to": "{{ input.email }}"}}],
        },
        workspace,
    )
    with pytest.raises(InvalidInput) as refused:
        launch.start_run(workspace=workspace, definition=definition, input={"email": 5})
    assert refused.value.fields == {"input.email": ["5 is not of type 'string'"]}
    assert Run.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_rendered_input_that_breaks_the_schema_fails_without_an_attempt(workspace):
    before = _sent.count
    run = start(
        workspace,
        [{"key": "nap", "action": "debug.sleep", "input": {"ms": "{{ input.ms }}"}}],
        input={"ms": "soon"},
    )
    run = wait_for(run, timeout=2)
    assert run.status == "failed"
    step = run.steps.get(key="nap")
    assert step.error["fields"] == {"input.ms": ["'soon' is not of type 'integer'"]}
    assert Attempt.objects.filter(run=run).count() == 0
    assert _sent.count == before


@pytest.mark.django_db(transaction=True)
def test_a_whole_input_reference_hands_the_run_input_over_untouched(worker, workspace):
    run = start(
        workspace,
        [{"key": "echo", "action": "debug.echo", "input": "{{ input }}"}],
        input={"text": "{{ secrets.X }} and {{ input.nope }}", "odd key!": 1},
    )
    run = wait_for(run)
    assert run.status == "succeeded"
    assert run.output == {"text": "{{ secrets.X }} and {{ input.nope }}", "odd key!": 1}


@pytest.mark.django_db(transaction=True)
def test_a_whole_reference_that_is_not_an_object_fails_the_step(workspace):
    run = start(
        workspace,
        [{"key": "echo", "action": "debug.echo", "input": "{{ input.items }}"}],
        input={"items": [1, 2]},
    )
    run = wait_for(run, timeout=2)
    assert run.status == "failed"
    assert run.steps.get(key="echo").error["fields"] == {"input": ["must be a JSON object"]}
