"""Waits in the builder: the palette adds each kind, the panel edits its fields with each
error under its field, the draft publishes, and the graph draws it."""

import pytest

from tests.builder.test_builder_views import HTMX, client_of, draft_of, errors_in, url, workflow

pytestmark = pytest.mark.django_db
__all__ = ["workflow"]  # the fixture, shared


def test_the_palette_adds_each_wait(alice, workflow):
    client = client_of(alice)
    page = client.get(url()).content.decode()
    for kind in ("sleep", "event", "approval"):
        assert f'data-add-action="flow:{kind}"' in page
        response = client.post(url("steps/add/"), {"action": f"flow:{kind}"}, **HTMX)
        assert response.status_code == 200
    added = draft_of(workflow)["steps"][3:]
    assert added == [
        {"key": "sleep", "type": "sleep", "for_s": 60},
        {"key": "event", "type": "event", "event": "event_name", "timeout_s": 3600},
        {"key": "approval", "type": "approval", "role": "editor", "timeout_s": 86400},
    ]
    bad = client.post(url("steps/add/"), {"action": "flow:nap"}, **HTMX)
    assert "Choose an action from the palette." in bad.content.decode()
    publish = client.post(url("publish/"), {"note": "waits"})
    assert publish.status_code in (200, 302)
    assert workflow.versions.count() == 1
    page = client.get(url() + "?step=5").content.decode()
    assert 'id="f-role"' in page and 'id="f-on-timeout"' in page
    assert 'id="f-input"' not in page and 'name="retry_mode"' not in page


@pytest.mark.parametrize(
    ("kind", "data", "slot", "message"),
    [
        ("sleep", {"for_s": "-3"}, "err-for_s", "between"),
        ("sleep", {"for_s": "", "until": "soon"}, "err-until", "ISO 8601"),
        ("event", {"event": "no spaces"}, "err-event", "letters"),
        ("event", {"event": "paid", "timeout_s": "x"}, "err-timeout_s", "number of seconds"),
        ("approval", {"role": "viewer"}, "err-role", "editor, owner"),
    ],
)
def test_the_panel_shows_a_waits_errors_under_its_fields(alice, workflow, kind, data, slot,
                                                         message):  # fmt: skip
    client = client_of(alice)
    client.post(url("steps/add/"), {"action": f"flow:{kind}"}, **HTMX)
    form = {"key": kind, "type": kind, "after_mode": "default", **data}
    response = client.post(url("steps/3/save/"), form, **HTMX)
    assert response.status_code == 200
    errors = errors_in(response)
    assert any(message in text for text in errors.get(slot, [])), errors


def test_saving_a_wait_keeps_its_fields(alice, workflow):
    client = client_of(alice)
    client.post(url("steps/add/"), {"action": "flow:event"}, **HTMX)
    form = {"key": "paid", "type": "event", "after_mode": "default", "event": "payment_received",
            "timeout_s": "120", "on_timeout": "continue"}  # fmt: skip
    client.post(url("steps/3/save/"), form, **HTMX)
    assert draft_of(workflow)["steps"][3] == {
        "key": "paid", "type": "event", "event": "payment_received", "timeout_s": 120,
        "on_timeout": "continue",
    }  # fmt: skip


def test_the_palette_adds_a_switch_and_a_sub_workflow_each_with_its_panel(alice, workflow):
    client = client_of(alice)
    for kind in ("switch", "workflow"):
        assert f'data-add-action="flow:{kind}"' in client.get(url()).content.decode()
        response = client.post(url("steps/add/"), {"action": f"flow:{kind}"}, **HTMX)
        assert response.status_code == 200
    switch, child = draft_of(workflow)["steps"][3:]
    assert switch["type"] == "switch" and switch["cases"][0]["when"] == 'input.kind == "a"'
    assert (child["type"], child["workflow"], child["version"]) == ("workflow", "", "latest")
    page = client.get(url() + "?step=4").content.decode()
    assert 'id="f-workflow"' in page  # the sub-workflow's panel: pick the workflow it runs
