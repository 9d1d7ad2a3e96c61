"""Log lines name the run, step and attempt they come from, and never show a secret."""

import json
import logging
import time

import pytest

from core.logs import ContextFilter, JsonFormatter, context, hiding, scrub
from core.models import Secret
from runner import executor, launch
from runner.models import Attempt
from tests.runs import start


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.addFilter(ContextFilter())
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines():
    handler = Lines()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_every_line_inside_an_attempt_carries_its_context(lines):
    # Given an attempt's context
    with context(run_id=7, step_key="charge", attempt=2):
        # When any library logs inside it, without passing extra=
        logging.getLogger("some.library").warning("connecting to redis://:pw@cache:6379/0")
    logging.getLogger("some.library").warning("outside")
    # Then the line names the run, step and attempt, and the URL's password is masked
    inside, outside = lines
    assert (inside["run_id"], inside["step_key"], inside["attempt"]) == (7, "charge", 2)
    assert inside["message"] == "connecting to redis://***@cache:6379/0"
    assert "run_id" not in outside


@pytest.mark.django_db
def test_a_failing_attempt_logs_its_run_and_step_but_not_the_secret(workspace, lines):
    # Given a step whose error message would contain a workspace secret
    Secret.objects.create(workspace=workspace, name="TOKEN", value="hunter2-very-secret")
    run = start(
        workspace,
        [
            {
                "key": "pay",
                "action": "debug.fail",
                "input": {"message": "token {{ secrets.TOKEN }} refused"},
                "retry": {"max_attempts": 1},
            }
        ],
    )
    attempt = Attempt.objects.get(run=run)
    # When a worker runs it
    executor.execute_attempt(attempt.id, "test-worker", send=launch.send)
    # Then its log lines carry the run, step and attempt, and the secret is masked
    mine = [line for line in lines if line.get("run_id") == run.id]
    assert mine, lines
    assert all(line["step_key"] == "pay" and line["attempt"] == 1 for line in mine)
    assert any("token *** refused" in line["message"] for line in mine)
    assert "hunter2-very-secret" not in json.dumps(lines)


def test_scrubbing_credentials_from_urls_is_linear():
    began = time.monotonic()
    assert scrub("a" * 500_000) == "a" * 500_000
    assert time.monotonic() - began < 1
    assert scrub("see https://ada:pw@crm.test/x") == "see https://***@crm.test/x"


def test_the_secrets_an_attempt_holds_are_masked_in_any_line_logged_meanwhile(lines):
    # Given a block that holds a secret (as the executor does around an attempt)
    with hiding(["sk_live_log_4c1b'x"]):
        # When a library logs it, repr-quoted
        logging.getLogger("some.library").warning("sent %r", {"token": "sk_live_log_4c1b'x"})
    logging.getLogger("some.library").warning("after the block")
    # Then the line shows the mask, and lines after the block are untouched
    assert "sk_live_log_4c1b" not in json.dumps(lines)
    assert lines[-2]["message"] == "sent {'token': \"***\"}"
    assert lines[-1]["message"] == "after the block"
