"""A schedule made in the browser: the preview follows what is typed, then the schedule
fires through a real worker's sweeper and its run shows in the list."""

import re

import pytest
from playwright.sync_api import expect

from builder.definition import validate
from builder.models import Workflow
from runner.models import Schedule

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_a_schedule_with_its_preview(worker, alice_page, workspace, screenshot):
    workflow = Workflow.objects.create(workspace=workspace, slug="report", name="Report")
    steps = [{"key": "a", "action": "debug.echo", "input": {"at": "{{ run.scheduled_for }}"}}]
    workflow.publish(validate({"steps": steps}, workspace))
    page = alice_page
    page.goto("/w/acme/workflows/report/")
    page.locator(".builder-head").get_by_role("link", name="Schedules").click()
    expect(page.get_by_role("heading", name="Schedules")).to_be_visible()
    page.get_by_role("button", name="+ New schedule").click()
    page.get_by_label("Name").fill("weekday mornings")
    page.get_by_label("Cron expression").fill("30 9 * * mon-fri")
    page.get_by_label("Timezone").fill("Europe/Berlin")
    preview = page.locator("#schedule-preview .fire-times li")
    expect(preview).to_have_count(5)
    expect(preview.first).to_contain_text(re.compile(r"0[78]:30:00 UTC"))
    page.get_by_label("Cron expression").fill("30 9 * * funday")
    expect(page.locator("#schedule-preview .errorlist")).to_contain_text("Not a valid cron")
    screenshot(page, "schedule-preview-error", full_page=False)
    # Every 2 seconds instead, so that it fires while we watch
    page.get_by_label("Cron expression").fill("")
    page.get_by_label("Or every (seconds)").fill("2")
    page.get_by_label("Timezone").fill("UTC")
    expect(preview).to_have_count(5)
    screenshot(page, "schedule-preview", full_page=False)
    page.get_by_role("button", name="Create schedule").click()
    expect(page.locator(".messages")).to_contain_text("Created the schedule weekday mornings")
    # The worker's sweeper fires it; the page shows its last run once reloaded
    schedule = Schedule.objects.get()
    for _ in range(40):
        if schedule.runs.filter(status="succeeded").exists():
            break
        page.wait_for_timeout(250)
    page.reload()
    expect(page.locator(f"#schedule-{schedule.id}")).to_contain_text("succeeded")
    screenshot(page, "schedules", full_page=False)
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(f"#schedule-{schedule.id}")).to_contain_text("paused")
