"""The Python client, against a live server and a real worker, SMTP server and database."""

import re
from pathlib import Path

import pytest

from core.client import Brickwork, BrickworkError
from runner.models import Run
from tests.runs import attempts_of

pytestmark = pytest.mark.django_db(transaction=True)
README = Path(__file__).resolve().parents[3] / "README.md"


def readme_client_example():
    """The README's Python example that sends the welcome e-mail, as written there."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    [example] = [block for block in blocks if 'action("email.send")' in block]
    return example


def test_the_readme_example_sends_the_welcome_email_once(
    live_server, api_key, worker, smtp_server, monkeypatch
):
    # Given an SMTP server that drops the first delivery
    smtp_server.clear()
    smtp_server.drop_next(1)
    monkeypatch.setenv("BRICKWORK_API_KEY", api_key)
    monkeypatch.setenv("BRICKWORK_URL", live_server.url)
    # When the README's example runs, as a user would run it
    scope = {}
    exec(compile(readme_client_example(), "README.md", "exec"), scope)
    # Then the run succeeded, on its second attempt
    run = scope["run"]
    assert run.status == "succeeded", run.data
    assert run.output["to"] == ["ada@example.com"]
    attempts = attempts_of(Run.objects.get(id=run.id), "run")
    assert [a.status for a in attempts] == ["failed", "succeeded"]
    assert attempts[0].retry_decision["retry"] is True
    # And the e-mail arrived exactly once (the first delivery was refused)
    assert smtp_server.refused == 1
    [message] = smtp_server.messages
    assert message.rcpt_tos == ["ada@example.com"]
    assert b"Welcome to Acme" in message.content
    # And running the example again (same idempotency key) sends nothing more
    exec(compile(readme_client_example(), "README.md", "exec"), scope)
    assert scope["run"].id == run.id and len(smtp_server.messages) == 1


def test_runs_reruns_cancels_and_lists(brickwork, worker):
    failed = brickwork.action("debug.fail").run({"retryable": False}, wait=20)
    assert failed.status == "failed" and failed.error["step"] == "run"
    rerun = failed.rerun(start_from="failed", input={"fail_times": 0}, wait=20)
    assert rerun.status == "succeeded" and rerun.data["rerun_of"] == failed.id
    slow = brickwork.action("debug.sleep").run({"ms": 5000})
    assert slow.cancel().status in ("compensating", "cancelled")
    assert slow.wait(timeout=20).status == "cancelled"
    fetched = brickwork.run(failed.id)
    assert fetched.steps[0]["attempts"][0]["status"] == "failed"
    listed = [run.id for run in brickwork.runs(status="failed", limit=1)]
    assert listed == [failed.id]
    assert {a["name"] for a in brickwork.actions()} >= {"email.send", "debug.echo"}


def test_api_errors_are_raised_as_one_exception_type(brickwork, live_server):
    with pytest.raises(BrickworkError) as invalid:
        brickwork.action("email.send").run({"to": "ada@example.com"})
    assert invalid.value.status == 422 and invalid.value.code == "invalid"
    assert set(invalid.value.fields) == {"input.subject", "input.body"}
    with pytest.raises(BrickworkError) as not_an_object:
        brickwork.action("debug.echo").run([])  # not silently run with {}
    assert not_an_object.value.status == 422 and "input" in not_an_object.value.fields
    with pytest.raises(BrickworkError) as missing:
        brickwork.run(123456789)
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    with pytest.raises(BrickworkError) as unauthorized:
        Brickwork(api_key="bw_nope", base_url=live_server.url).actions()
    assert unauthorized.value.status == 401
    with pytest.raises(BrickworkError) as unreachable:
        Brickwork(api_key="bw_nope", base_url="http://127.0.0.1:9", timeout=2).actions()
    assert unreachable.value.status is None and unreachable.value.code == "unreachable"
    slow = brickwork.action("debug.sleep").run({"ms": 3000})
    with pytest.raises(TimeoutError):
        slow.wait(timeout=0.3)
    slow.cancel()
