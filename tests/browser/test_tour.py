"""The pictures of docs/TOUR.md: a workspace with the demo's workflows and a few runs of
every kind, each main page opened as a user meets it.

Each page is checked for its heading and for no horizontal overflow, then photographed
into tests/screenshots/tour-*.png. With `DOCS_SCREENSHOTS=1` the pictures are also written
to docs/screenshots/, which is how the tour is refreshed when the pages change.
"""

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from builder.definition import validate
from builder.demo import WORKFLOWS
from builder.models import Trigger, Workflow
from runner import launch
from runner.models import Run
from tests.runs import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
FAILING = [
    {"key": "charge", "action": "debug.fail", "input": {"fail_times": 9, "message": "card declined"},
     "retry": {"max_attempts": 2, "initial_interval_s": 0.1, "jitter": False}},
]  # fmt: skip


def publish_demo(workspace):
    """The demo's workflows, published in the test's workspace as `seed_demo` does."""
    published = {}
    for slug, spec in WORKFLOWS:
        workflow = Workflow.objects.create(
            workspace=workspace, slug=slug, name=spec["name"], draft=spec
        )
        workflow.publish(validate(spec, workspace, slug=slug))
        published[slug] = workflow
    return published


def start_order(workflow, order_id, total):
    version = workflow.latest_version()
    lines = [{"sku": "BOOK-1", "qty": 1, "price": total}]
    return launch.start_run(
        workspace=workflow.workspace,
        definition=version.definition,
        input={"order_id": order_id, "total": total, "lines": lines},
        workflow=workflow,
        workflow_version=version,
    )


def wait_until_waiting(run, timeout=30):
    """Until the run's approval waits for a person (the run itself stays `running`)."""
    deadline = time.time() + timeout
    while not run.steps.filter(key="review", status="waiting").exists():
        assert time.time() < deadline, f"run {run.id}'s approval never waited"
        time.sleep(0.05)


@pytest.fixture
def busy_demo(worker, workspace, alice):
    """Finished, failed, waiting and webhook-started runs of the demo's workflows."""
    workflows = publish_demo(workspace)
    wait_for(start_order(workflows["order-approval"], "A-1001", 40))
    approved = start_order(workflows["order-approval"], "A-1002", 182)
    wait_until_waiting(approved)
    launch.decide_approval(approved.id, "review", approved=True, by="alice", comment="Stock ok")
    wait_for(approved)
    wait_until_waiting(start_order(workflows["order-approval"], "A-1003", 260))
    charge = validate({"name": "Charge card", "steps": FAILING}, workspace)
    wait_for(launch.start_run(workspace=workspace, definition=charge, input={}), timeout=60)
    trigger = Trigger.objects.create(
        workflow=workflows["welcome"], token=Trigger.new_token(), name="signups"
    )
    Client().post(
        f"/hooks/{trigger.token}",
        json.dumps({"email": "ada@example.com"}),
        content_type="application/json",
    )
    wait_for(Run.objects.get(trigger="webhook"), timeout=60)
    return {"approved": approved, **workflows}


def photograph(page, screenshot, name, heading, full_page):
    expect(page.get_by_role("heading", level=1).first).to_contain_text(heading)
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than the window"
    path = screenshot(page, f"tour-{name}", full_page=full_page)
    if os.environ.get("DOCS_SCREENSHOTS"):
        shutil.copyfile(path, DOCS / path.name)


def test_the_tour_of_the_main_pages(busy_demo, alice_page, screenshot):
    page = alice_page
    page.set_viewport_size({"width": 1440, "height": 900})
    approved = busy_demo["approved"]
    stops = [
        ("/w/acme/", "dashboard", "Dashboard"),
        ("/w/acme/workflows/", "workflows", "Workflows"),
        ("/w/acme/workflows/order-approval/", "builder", "Order approval"),
        (f"/w/acme/runs/{approved.id}/", "run", "Order approval", True),
        ("/w/acme/runs/", "runs", "Runs"),
        ("/w/acme/failures/", "failures", "Failures"),
        ("/w/acme/waiting/", "waiting", "Waiting"),
        ("/w/acme/workflows/welcome/triggers/", "triggers", "Triggers"),
        ("/w/acme/actions/", "actions", "Actions"),
        ("/w/acme/audit/", "audit", "Audit"),
    ]
    for path, name, heading, *whole in stops:
        page.goto(path)
        photograph(page, screenshot, name, re.compile(heading, re.IGNORECASE), bool(whole))
