"""Export of the runs list as CSV and JSON lines: the list's filters, streamed in
batches, only the workspace's own runs, secrets masked, formulas defused."""

import csv
import io
import json

import pytest

from core.models import Secret
from runner.models import Run
from runner.views import export

pytestmark = pytest.mark.django_db


def run(workspace, input, **fields):
    return Run.objects.create(workspace=workspace, definition={"steps": []}, input=input, **fields)


def body(response):
    assert response.streaming  # written as it is read, never built whole
    return b"".join(response.streaming_content).decode()


def test_csv_and_jsonl_of_the_filtered_runs(client, alice, workspace, other_workspace):
    client.force_login(alice)
    Secret.set(workspace, "TOKEN", "s3cr3t-value")
    failed = run(
        workspace,
        {"customer_id": 42, "note": '=HYPERLINK("x")', "token": "s3cr3t-value"},
        status="failed",
        error={"step": "pay", "message": "declined for s3cr3t-value"},
    )
    run(workspace, {"customer_id": 7})
    theirs = run(other_workspace, {"customer_id": 42})

    response = client.get("/w/acme/runs/export", {"q": "input.customer_id = 42", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [int(r["id"]) for r in rows] == [failed.id]
    assert rows[0]["status"] == "failed" and rows[0]["error_step"] == "pay"
    assert "s3cr3t-value" not in json.dumps(rows)
    assert json.loads(rows[0]["input"])["customer_id"] == 42
    assert json.loads(rows[0]["input"])["note"].startswith("=")  # JSON, inside quotes
    assert rows[0]["error_message"].startswith("declined for ")

    response = client.get("/w/acme/runs/export", {"format": "jsonl"})
    assert response["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in body(response).splitlines()]
    assert {line["id"] for line in lines} == {failed.id, failed.id + 1}
    assert theirs.id not in {line["id"] for line in lines}
    assert "s3cr3t-value" not in json.dumps(lines)


def test_a_formula_in_a_cell_is_defused(client, alice, workspace):
    client.force_login(alice)
    run(workspace, {}, status="failed", error={"step": "x", "message": "=1+2"})
    rows = list(csv.DictReader(io.StringIO(body(client.get("/w/acme/runs/export")))))
    assert rows[0]["error_message"] == "'=1+2"


def test_other_workspaces_runs_are_never_exported(client, charlie, workspace, other_workspace):
    run(workspace, {"customer_id": 42})
    mine = run(other_workspace, {"customer_id": 42})
    client.force_login(charlie)
    response = client.get("/w/globex/runs/export", {"format": "jsonl"})
    assert [json.loads(line)["id"] for line in body(response).splitlines()] == [mine.id]
    # and the workspace in the URL must be one's own
    assert client.get("/w/acme/runs/export", {"format": "jsonl"}).status_code == 404


def test_a_bad_filter_is_a_form_error_not_a_file(client, alice, workspace):
    client.force_login(alice)
    response = client.get("/w/acme/runs/export", {"q": "input.x = 1 or 1=1", "format": "csv"})
    assert response.status_code == 400
    assert not response.streaming
    assert "Join conditions with and" in response.content.decode()
    response = client.get("/w/acme/runs/export", {"format": "xlsx"})
    assert response.status_code == 400
    assert "Export as csv or jsonl" in response.content.decode()


def test_rows_come_in_batches(workspace, django_assert_num_queries):
    for n in range(5):
        run(workspace, {"n": n})
    runs = Run.objects.filter(workspace=workspace)
    with django_assert_num_queries(3):  # 2 + 2 + 1 rows
        rows = list(export.batches(runs, size=2))
    assert [row["input"]["n"] for row in rows] == [4, 3, 2, 1, 0]


def test_the_runs_page_links_to_the_exports_with_its_filters(client, alice, workspace):
    client.force_login(alice)
    html = client.get("/w/acme/runs/", {"status": "failed"}).content.decode()
    assert "/w/acme/runs/export?status=failed&amp;format=csv" in html
    assert "/w/acme/runs/export?status=failed&amp;format=jsonl" in html
