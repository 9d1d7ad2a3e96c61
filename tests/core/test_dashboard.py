"""The dashboard's figures: runs of the last 24 hours by status, and by hour in the chart."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runner.models import Run

pytestmark = pytest.mark.django_db


def runs_at(workspace, hours_ago, **counts):
    """Finished runs created `hours_ago` hours ago (a few minutes into that hour), by status."""
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    created = hour - timedelta(hours=hours_ago) + timedelta(minutes=5)
    for status, count in counts.items():
        for _ in range(count):
            run = Run.objects.create(
                workspace=workspace, definition={"name": "Orders", "steps": []}, status=status
            )
            Run.objects.filter(id=run.id).update(created_at=created)
    return created.strftime("%H:00")


def test_the_chart_counts_each_hour_s_runs_by_outcome(client, alice, workspace, other_workspace):
    # Given runs two and five hours ago, some failed, and another workspace's runs
    two = runs_at(workspace, 2, succeeded=3, failed=1, compensated=1)
    five = runs_at(workspace, 5, succeeded=2)
    runs_at(other_workspace, 2, succeeded=4)
    runs_at(workspace, 30, failed=6)  # older than the window
    # When alice opens the dashboard
    client.force_login(alice)
    context = client.get("/w/acme/").context
    # Then each hour's bar says how many succeeded and failed, and the others are empty
    titles = [bar.title for bar in context["chart"]["bars"]]
    assert len(titles) == 24
    assert f"{two}: 3 succeeded, 2 failed" in titles
    assert f"{five}: 2 succeeded, 0 failed" in titles
    assert sum(title.endswith(": 0 succeeded, 0 failed") for title in titles) == 22
    # And the totals count the window only
    assert context["total"] == 7
    assert {s["status"]: s["count"] for s in context["statuses"]}["failed"] == 1
