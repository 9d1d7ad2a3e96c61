"""The builder's graph: a definition read as nodes and typed edges (builder/graph.py), the
graph edits (builder/edges.py) and their views: insert on a node or an edge, connect and
disconnect, the keyboard's connect dialog. Bad edits are refused with a sentence."""

import re

import pytest

from builder import edges, graph
from builder.models import Workflow
from builder.palette import resolve
from tests.builder.test_builder_views import HTMX, client_of, draft_of, url

pytestmark = pytest.mark.django_db

# a -> b -> d, a -> c -> d: two branches and a fan-in
DIAMOND = [
    {"key": "a", "action": "debug.echo@1", "input": {}},
    {"key": "b", "action": "debug.echo@1", "input": {}},
    {"key": "c", "action": "debug.echo@1", "input": {}, "after": ["a"]},
    {"key": "d", "action": "debug.echo@1", "input": {}, "after": ["b", "c"]},
]


@pytest.fixture
def diamond(workspace, alice):
    return Workflow.objects.create(
        workspace=workspace, slug="signup", name="Signup", draft={"steps": DIAMOND}
    )


def keys_after(draft):
    """{key: effective after} of a draft."""
    from builder import draft as drafts

    steps = drafts.steps_of(draft)
    return dict(zip([s["key"] for s in steps], drafts.effective_after(steps), strict=True))


# ---- The graph of a definition -------------------------------------------------------


def test_nodes_and_edges_of_a_diamond():
    nodes, lines = graph.build(DIAMOND)
    assert [node.key for node in nodes] == ["a", "b", "c", "d"]
    assert [(e.source, e.target, e.kind) for e in lines] == [
        ("a", "b", "next"),
        ("a", "c", "next"),
        ("b", "d", "next"),
        ("c", "d", "next"),
    ]
    assert nodes[3].after == ["b", "c"]


def test_switch_cases_error_routes_conditions_and_waits_are_drawn_as_what_they_are():
    steps = [
        {
            "key": "check",
            "action": "http.request@1",
            "on_error": [{"match": ["timeout"], "next": ["apologise"]}],
        },
        {
            "key": "route",
            "type": "switch",
            "after": ["check"],
            "cases": [
                {"name": "big", "when": "steps.check.output.total > 1000", "next": ["review"]},
                {"name": "abroad", "when": 'input.country != "FR"', "next": ["customs"]},
            ],
            "default": ["ship"],
        },
        {"key": "review", "type": "approval", "role": "editor", "after": ["route"]},
        {"key": "customs", "action": "debug.echo@1", "after": ["route"]},
        {"key": "ship", "action": "debug.echo@1", "after": ["route"], "when": "input.ship == true"},
        {"key": "cool_off", "type": "sleep", "seconds": 5, "after": ["ship"]},
        {"key": "paid", "type": "event", "event": "payment", "after": ["ship"]},
        {"key": "apologise", "action": "email.send@1", "after": ["check"]},
    ]
    nodes, lines = graph.build(steps)
    kinds = {(e.source, e.target): (e.kind, e.label) for e in lines}
    assert kinds[("route", "review")] == ("case", "big")
    assert kinds[("route", "customs")] == ("case", "abroad")
    assert kinds[("route", "ship")] == ("default", "default")
    assert kinds[("check", "apologise")] == ("error", "timeout")
    assert kinds[("check", "route")] == ("next", "")
    by_key = {node.key: node for node in nodes}
    assert by_key["route"].type == "switch" and by_key["route"].title == "Switch · 2 cases"
    assert by_key["ship"].when == "input.ship == true"
    assert by_key["cool_off"].is_wait and by_key["cool_off"].title == "Sleep 5 s"
    assert by_key["paid"].title == "Wait for event payment"
    assert by_key["review"].title == "Approval by editor"
    assert by_key["check"].error_routes == 1
    assert [e.text for e in lines if e.target == "apologise"] == [
        "check → apologise (on error: timeout)"
    ]


def test_a_broken_draft_still_draws():
    steps = [
        {"key": "a", "after": "nope", "type": 3, "cases": "x", "on_error": [1, {"next": 2}]},
        {"action": 5, "after": ["a", "ghost", None]},
    ]
    nodes, lines = graph.build(steps)
    assert [node.key for node in nodes] == ["a", "(step 2)"]
    assert [(e.source, e.target) for e in lines] == [("a", "(step 2)")]


# ---- Edits ----------------------------------------------------------------------------


def test_insert_on_a_node_an_edge_and_the_blank_canvas(workspace):
    echo = resolve("debug.echo", workspace)
    draft, index = edges.insert_step({"steps": DIAMOND}, echo, after=["a"])
    assert index == 1 and keys_after(draft)["debug_echo"] == ["a"]
    # the others keep what they waited for, though the new step sits before `b`
    assert keys_after(draft)["b"] == ["a"]
    draft, index = edges.insert_step({"steps": DIAMOND}, echo, after=["b"], before="d")
    assert keys_after(draft)["d"] == ["c", "debug_echo"]
    assert keys_after(draft)["debug_echo"] == ["b"]
    draft, index = edges.insert_step({"steps": DIAMOND}, echo)
    assert index == 4 and keys_after(draft)["debug_echo"] == []
    assert draft["steps"][4]["after"] == []


def test_connect_and_disconnect(workspace):
    draft = edges.connect({"steps": DIAMOND}, "b", "c")
    assert keys_after(draft)["c"] == ["a", "b"]
    draft = edges.disconnect(draft, "a", "c")
    # `c` now waits for `b` only: the order says so, no explicit after is left
    assert keys_after(draft)["c"] == ["b"] and "after" not in draft["steps"][2]
    draft = edges.disconnect({"steps": DIAMOND}, "a", "b")
    assert keys_after(draft)["b"] == [] and draft["steps"][1]["after"] == []


@pytest.mark.parametrize(
    "change, source, target, message",
    [
        (edges.connect, "d", "a", "cycle"),
        (edges.connect, "a", "a", "itself"),
        (edges.connect, "a", "b", "already"),
        (edges.connect, "a", "ghost", "no step"),
        (edges.disconnect, "b", "c", "does not run after"),
    ],
)
def test_edits_that_cannot_be_made(change, source, target, message):
    with pytest.raises(edges.EdgeError, match=message):
        change({"steps": DIAMOND}, source, target)


# ---- Views ----------------------------------------------------------------------------


def test_link_view_adds_and_removes_an_edge(alice, diamond):
    client = client_of(alice)
    response = client.post(url("edges/"), {"op": "add", "source": "b", "target": "c"}, **HTMX)
    assert response.status_code == 200
    assert "Connected: c now runs after b." in response.content.decode()
    assert 'data-source="b" data-target="c"' in response.content.decode()
    assert keys_after(draft_of(diamond))["c"] == ["a", "b"]
    response = client.post(url("edges/"), {"op": "remove", "source": "b", "target": "c"}, **HTMX)
    assert keys_after(draft_of(diamond))["c"] == ["a"]


@pytest.mark.parametrize(
    "data",
    [
        {"op": "add", "source": "d", "target": "a"},
        {"op": "add", "source": "a", "target": "nope"},
        {"op": "remove", "source": "b", "target": "c"},
        {"op": "twist", "source": "a", "target": "b"},
        {},
    ],
)
def test_bad_links_are_refused_with_a_message(alice, diamond, data):
    before = draft_of(diamond)
    response = client_of(alice).post(url("edges/"), data, **HTMX)
    assert response.status_code == 422
    assert re.search(r'id="announcer"[^>]*>[^<]+\.', response.content.decode())
    assert draft_of(diamond) == before


def test_add_on_the_graph(alice, diamond):
    client = client_of(alice)
    data = {"action": "debug.sleep", "graph": "1", "after": "b", "before": "d"}
    response = client.post(url("steps/add/"), data, **HTMX)
    assert response.status_code == 200
    assert keys_after(draft_of(diamond))["d"] == ["c", "debug_sleep"]
    data = {"action": "debug.sleep", "graph": "1", "after": "ghost"}
    assert client.post(url("steps/add/"), data, **HTMX).status_code == 422
    data = {"action": "debug.sleep", "graph": "1", "after": "", "before": ""}
    client.post(url("steps/add/"), data, **HTMX)
    assert keys_after(draft_of(diamond))["debug_sleep_2"] == []


def test_connect_dialog_lists_what_can_be_connected(alice, diamond):
    text = client_of(alice).get(url("steps/1/connect/"), **HTMX).content.decode()
    assert "Connections of <code>b</code>" in text
    # b runs after a, then d; it may also run after c; c may run after it; a may not (cycle)
    assert "a → b" in text and "b → d" in text
    assert re.findall(r'"op": "add", "source": "(\w+)", "target": "b"', text) == ["c"]
    assert re.findall(r'"op": "add", "source": "b", "target": "(\w+)"', text) == ["c"]


def test_the_canvas_reads_as_a_list_for_a_screen_reader(alice, diamond):
    text = client_of(alice).get(url()).content.decode()
    assert re.search(r"Runs after b, c\.", text)
    assert re.search(r"Runs first\.\s+Then b, c\.", text)


def test_a_viewer_or_an_outsider_cannot_link(bob, charlie, diamond):
    before = draft_of(diamond)
    for user in (bob, charlie):
        response = client_of(user).post(url("edges/"), {"op": "add", "source": "b", "target": "c"})
        assert response.status_code == 404
    assert client_of(charlie).get(url("steps/1/connect/")).status_code == 404
    assert draft_of(diamond) == before
