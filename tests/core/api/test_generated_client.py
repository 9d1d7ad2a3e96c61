"""A client generated from the served OpenAPI document by openapi-python-client runs an
action to `succeeded` against a live server and a real worker: the document is complete
enough, and its operation ids read well, for any team's generated client."""

import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
# No post-processing hooks (they would run ruff from the PATH): the generator alone.
CONFIG = "post_hooks: []\n"


def generate(document_url, where):
    (where / "openapi.json").write_bytes(urllib.request.urlopen(document_url).read())
    (where / "config.yaml").write_text(CONFIG)
    command = [GENERATOR, "generate", "--path", "openapi.json", "--output-path", "brickwork_api"]
    command += ["--meta", "none", "--config", "config.yaml"]
    # Offline: any attempt to reach the network would go to a closed port.
    offline = {"PATH": "/usr/bin:/bin", "HTTP_PROXY": "http://127.0.0.1:9"}
    offline["HTTPS_PROXY"] = offline["ALL_PROXY"] = offline["HTTP_PROXY"]
    done = subprocess.run(
        command, cwd=where, env=offline, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in (done.stdout + done.stderr).lower(), done.stdout + done.stderr


def test_a_generated_client_runs_an_action_to_succeeded(
    live_server, api_key, worker, tmp_path, monkeypatch
):
    # Given a client generated from the document the server serves
    generate(f"{live_server.url}/api/v1/openapi.json", tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    from brickwork_api import AuthenticatedClient
    from brickwork_api.api.actions import run_action
    from brickwork_api.api.runs import get_run
    from brickwork_api.models import ErrorOut, RunIn, RunOut

    # (closed at the end: a kept-alive connection would hold a live server thread)
    with AuthenticatedClient(base_url=live_server.url, token=api_key, timeout=60) as client:
        # When it runs an action through the operation `runAction`
        body = RunIn.from_dict({"input": {"text": "generated"}, "wait": 20})
        response = run_action.sync_detailed(name="debug.echo", client=client, body=body)
        # Then the run succeeded, and `getRun` reads it back with its attempt
        assert response.status_code == 200, response.content
        assert isinstance(response.parsed, RunOut) and response.parsed.status == "succeeded"
        run = get_run.sync(run_id=response.parsed.id, client=client)
        assert run.output == {"text": "generated"}
        assert [a.status for a in run.steps[0].attempts] == ["succeeded"]
        # And an error arrives as the documented error shape
        missing = run_action.sync_detailed(name="no.such", client=client, body=RunIn())
        assert missing.status_code == 404 and isinstance(missing.parsed, ErrorOut)
        assert missing.parsed.error.code == "not_found"
