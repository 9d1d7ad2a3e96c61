"""`manage.py startrun --workspace demo welcome`: start a run of a workflow from the shell.

With `--wait N` it waits up to N seconds for the run to end and exits non-zero unless it
succeeded, so scripts and `make test` can use it as a smoke test.
"""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from builder.models import Workflow
from core.errors import FieldErrors
from core.models import Workspace
from runner import launch
from runner.models import Run
from runner.states import RunStatus, Trigger

POLL_S = 0.2


class Command(BaseCommand):
    help = "Start a run of the latest published version of a workflow."

    def add_arguments(self, parser):
        parser.add_argument("workflow", help="the workflow's slug")
        parser.add_argument("--workspace", required=True, help="the workspace's slug")
        parser.add_argument("--input", default="{}", help="the run input, a JSON object")
        parser.add_argument(
            "--wait", type=float, default=0, metavar="SECONDS", help="wait for the run to end"
        )

    def handle(self, *args, workflow, workspace, input, wait, **options):
        try:
            run_input = json.loads(input)
        except json.JSONDecodeError as error:
            raise CommandError(f"--input is not valid JSON: {error}")
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            raise CommandError(f"no workspace {workspace!r}")
        flow = Workflow.objects.filter(workspace=found, slug=workflow).first()
        if flow is None:
            raise CommandError(f"no workflow {workflow!r} in workspace {workspace!r}")
        version = flow.latest_version()
        if version is None:
            raise CommandError(f"workflow {workflow!r} has no published version")
        try:
            run = launch.start_run(
                workspace=found,
                definition=version.definition,
                input=run_input,
                trigger=Trigger.MANUAL,
                workflow=flow,
                workflow_version=version,
            )
        except FieldErrors as error:
            raise CommandError(f"{error.message}: {json.dumps(error.fields)}")
        self.stdout.write(f"run {run.id} of {workflow} v{version.number} started")
        if wait <= 0:
            return
        run = _wait_for(run, wait)
        self.stdout.write(f"run {run.id} {run.status}")
        if run.status != RunStatus.SUCCEEDED:
            detail = f": {json.dumps(run.error)}" if run.error else ""
            raise CommandError(f"run {run.id} ended {run.status}{detail}")


def _wait_for(run, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(id=run.id)
        if run.is_finished:
            return run
        time.sleep(POLL_S)
    raise CommandError(f"run {run.id} is still {run.status} after {timeout:g} s")
