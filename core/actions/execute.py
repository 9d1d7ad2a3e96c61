"""Run one ActionVersion, whatever its kind, and give back its output or raise ActionError."""

import json
import subprocess

from core import references
from core.actions.builtins.http import perform_request
from core.actions.registry import function_for
from core.errors import ActionError, AttemptTimeout, NonRetryable
from core.models import ActionKind

# A script that exits with EX_DATAERR says its input can never work: don't retry it.
SCRIPT_NON_RETRYABLE_EXIT = 65
MAX_SCRIPT_OUTPUT = 5 * 1024 * 1024


def execute(action_version, ctx, input):
    if action_version.kind == ActionKind.PYTHON:
        function = function_for(action_version.action.name, action_version.code_version)
        if function is None:
            raise NonRetryable(f"no code is registered for {action_version.ref}")
        return function(ctx, input)
    if action_version.kind == ActionKind.HTTP:
        return run_http_template(action_version.config, ctx, input)
    if action_version.kind == ActionKind.SCRIPT:
        return run_script(action_version.config, ctx, input)
    raise NonRetryable(f"unknown action kind {action_version.kind!r}")


def run_http_template(config, ctx, input):
    """Fill the request template from the input (and secrets), then send it."""
    scope = {"input": input, "secrets": ctx.secrets, "run": {"id": ctx.run_id}}
    try:
        spec = references.render(config, scope)
    except references.MissingReference as missing:
        raise NonRetryable(f"the request template refers to {missing.path}, which is missing")
    return perform_request(ctx, spec)


def run_script(config, ctx, input):
    """Run the command with the input as JSON on stdin; no shell ever sees the input."""
    command = config.get("command")
    if not isinstance(command, list) or not command:
        raise NonRetryable("the script action has no command")
    try:
        finished = subprocess.run(
            [str(part) for part in command],
            input=json.dumps(input).encode(),
            capture_output=True,
            timeout=max(ctx.remaining(), 0.001),
            cwd=config.get("cwd") or None,
            shell=False,
        )
    except subprocess.TimeoutExpired:
        raise AttemptTimeout(f"the script ran past its deadline ({command[0]})")
    except OSError as error:
        raise NonRetryable(f"the script could not start: {error.strerror}")
    stderr = finished.stderr[-4000:].decode("utf-8", errors="replace")
    if finished.returncode != 0:
        message = f"the script exited with status {finished.returncode}: {stderr.strip()}"
        if finished.returncode == SCRIPT_NON_RETRYABLE_EXIT:
            raise NonRetryable(message)
        raise ActionError(message)
    stdout = finished.stdout[:MAX_SCRIPT_OUTPUT].decode("utf-8", errors="replace").strip()
    if not stdout:
        return None
    try:
        return json.loads(stdout)
    except ValueError:
        raise NonRetryable("the script's output is not JSON", details={"stdout": stdout[:2000]})
