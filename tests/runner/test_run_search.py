"""Run search: `input.<field> = value` (and `!=`), by error text; parsed by a grammar of
its own, hostile text refused with a form error; the GIN index on PostgreSQL."""

import pytest
from django.db import connection

from runner import run_search
from runner.models import Run
from runner.run_search import Condition, SearchError, parse

pytestmark = pytest.mark.django_db


def run(workspace, input, error=None, status="succeeded"):
    return Run.objects.create(
        workspace=workspace, definition={"steps": []}, input=input, status=status, error=error
    )


def found(workspace, text):
    runs = Run.objects.filter(workspace=workspace)
    return sorted(r.id for r in run_search.matching(runs, parse(text)))


def test_parse_numbers_strings_literals_and_and():
    assert parse("input.customer_id = 42") == [Condition(("customer_id",), False, 42)]
    assert parse('input.a.b != "x y"') == [Condition(("a", "b"), True, "x y")]
    assert parse("input.name == 'O\\'Brien'") == [Condition(("name",), False, "O'Brien")]
    assert parse("input.x = -1.5 AND input.ok = true and input.gone = null") == [
        Condition(("x",), False, -1.5),
        Condition(("ok",), False, True),
        Condition(("gone",), False, None),
    ]
    assert parse("   ") == []


@pytest.mark.parametrize(
    "text",
    [
        "customer_id = 42",  # no input.
        "input.customer_id",  # no operator
        "input.customer_id > 42",  # no such operator
        "input.customer_id = ada",  # unquoted text
        "input.customer_id = 42 or input.x = 1",  # only and
        "input.x = 1 input.y = 2",
        "input.x = 1; DROP TABLE runner_run",
        "input.x = '1' -- comment",
        "input.__class__ = 1 = 2",
        "input.0 = 1",  # a name, not an index
        "input.a..b = 1",
        'input.x = "unterminated',
        'input.x = "bad \\q escape"',
        "input.x = 1e999999",  # too large
        "input." + ".".join(["a"] * 9) + " = 1",  # too deep
        " and ".join(["input.x = 1"] * 9),  # too many
        "input.x = " + "9" * 600,  # too long
        'input.x = {"a": 1}',  # objects are not scalars
        "input.x = [1]",
        "input.contains = 1 and input.x = $",
    ],
)
def test_hostile_or_malformed_text_is_refused(text):
    with pytest.raises(SearchError):
        parse(text)


def test_filters_by_input_field(workspace, other_workspace):
    a = run(workspace, {"customer_id": 42, "plan": "pro", "who": {"name": "Ada"}})
    b = run(workspace, {"customer_id": 7, "plan": "free", "flag": True})
    c = run(workspace, {"customer_id": "42", "gone": None})
    d = run(workspace, {})
    run(other_workspace, {"customer_id": 42})
    assert found(workspace, "input.customer_id = 42") == [a.id]  # 42, not "42"
    assert found(workspace, 'input.customer_id = "42"') == [c.id]
    assert found(workspace, "input.customer_id = 42.0") == [a.id]
    assert found(workspace, "input.who.name = 'Ada'") == [a.id]
    assert found(workspace, "input.flag = true") == [b.id]
    assert found(workspace, "input.gone = null") == [c.id]  # JSON null, not missing
    # != keeps runs where the field differs or is missing
    assert found(workspace, "input.customer_id != 42") == [b.id, c.id, d.id]
    assert found(workspace, 'input.plan != "free" and input.customer_id = 42') == [a.id]
    # Names that Django reads as lookups are plain keys here
    e = run(workspace, {"contains": 1, "isnull": {"exact": 2}})
    assert found(workspace, "input.contains = 1") == [e.id]
    assert found(workspace, "input.isnull.exact = 2") == [e.id]


def test_runs_page_filters_and_refuses_bad_text(client, alice, workspace, other_workspace):
    client.force_login(alice)
    a = run(workspace, {"customer_id": 42}, error={"step": "pay", "message": "Card DECLINED"})
    b = run(workspace, {"customer_id": 42})
    run(other_workspace, {"customer_id": 42})
    page = client.get("/w/acme/runs/", {"q": "input.customer_id = 42"})
    assert page.status_code == 200
    assert [r.id for r in page.context["runs"]] == [b.id, a.id]
    page = client.get("/w/acme/runs/", {"q": "input.customer_id = 42", "error": "declined"})
    assert [r.id for r in page.context["runs"]] == [a.id]
    page = client.get("/w/acme/runs/", {"q": "input.customer_id = x'; --"})
    assert page.status_code == 400
    assert "q" in page.context["form"].errors
    assert "Put text in quotes" in page.content.decode() or "Unexpected" in page.content.decode()


@pytest.mark.postgresql_only(
    reason="the GIN index on input (jsonb_path_ops) and jsonb containment are PostgreSQL's"
)
def test_the_input_search_uses_the_gin_index_on_100000_runs(workspace):
    # Given 100,000 runs, each with its own customer
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO runner_run (workspace_id, definition, action_versions, status, ending,"
            " input, trigger, rerun_from, needs_review, keep, concurrency_key, resolve_original,"
            " resolution_note, created_at) SELECT %s, '{\"steps\": []}', '{}', 'succeeded', '',"
            " jsonb_build_object('customer_id', n, 'plan', 'pro'), 'api', '', false, false, '',"
            " false, '', now() FROM generate_series(1, 100000) AS n",
            [workspace.id],
        )
        cursor.execute("ANALYZE runner_run")
    # When the runs list searches one customer
    runs = Run.objects.filter(workspace=workspace)
    form_query = run_search.matching(runs, parse("input.customer_id = 4242")).order_by("-id")[:51]
    plan = form_query.explain()
    print(plan)
    # Then PostgreSQL answers from the GIN index, through jsonb containment
    assert "run_input_path" in plan
    assert [r.input["customer_id"] for r in form_query] == [4242]
