"""A run someone asked for is recorded in the audit log with the run, never apart."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.audit import AuditEntry
from tests.runs import start


@pytest.mark.django_db
def test_a_started_run_has_its_entry_written_with_its_rows(workspace):
    # When a run is started by hand
    with CaptureQueriesContext(connection) as queries:
        run = start(workspace, [{"key": "a", "action": "debug.echo", "input": {}}])
    # Then its audit entry names it
    entry = AuditEntry.objects.get(action="run.start", object_id=str(run.id))
    assert entry.object_type == "run"
    assert entry.data == {"trigger": "manual"}
    assert entry.workspace_id == workspace.id
    if connection.vendor == "postgresql":
        # ... and went to the database in the statement that wrote the run's attempt
        writes = [q["sql"] for q in queries.captured_queries if "core_auditentry" in q["sql"]]
        assert len(writes) == 1
        assert "runner_attempt" in writes[0]


@pytest.mark.django_db
def test_a_webhook_or_schedule_start_is_not_an_entry(workspace):
    run = start(workspace, [{"key": "a", "action": "debug.echo", "input": {}}], trigger="webhook")
    assert not AuditEntry.objects.filter(object_id=str(run.id)).exists()
