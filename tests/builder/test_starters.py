"""Onboarding: the empty dashboard's way in, starters made in one click, an empty builder
that guides instead of scolding."""

import pytest

from builder import starters
from builder.definition import validate
from builder.models import Workflow

pytestmark = pytest.mark.django_db


def test_the_empty_dashboard_leads_to_a_new_workflow_and_to_the_starters(client, alice):
    client.force_login(alice)
    page = client.get("/w/acme/").content.decode()
    assert "Build your first workflow" in page
    assert 'href="/w/acme/workflows/?new=1"' in page
    for starter in starters.STARTERS:
        assert f'action="/w/acme/starters/{starter.slug}/"' in page
    # ?new=1 opens the "New workflow" form at once
    listing = client.get("/w/acme/workflows/?new=1").content.decode()
    assert 'id="new-workflow" aria-labelledby="new-workflow-title" data-open' in listing


@pytest.mark.parametrize("starter", starters.STARTERS, ids=lambda starter: starter.slug)
def test_each_starter_makes_a_draft_in_one_click_that_publishes_cleanly(client, alice, starter):
    client.force_login(alice)
    response = client.post(f"/w/acme/starters/{starter.slug}/")
    workflow = Workflow.objects.get(slug=starter.slug)
    assert response.status_code == 302
    assert response.url == f"/w/acme/workflows/{starter.slug}/"
    assert workflow.draft == starter.definition and workflow.name == starter.name
    validate(workflow.draft, workflow.workspace)  # the real validator: raises if invalid
    builder = client.get(response.url).content.decode()
    assert 'id="draft-valid"' in builder
    published = client.post(
        f"/w/acme/workflows/{starter.slug}/publish/", {"note": "from a starter"}
    )
    assert published.status_code == 302
    assert workflow.versions.get().number == 1


def test_a_second_click_makes_a_second_workflow_and_the_dashboard_stops_offering(client, alice):
    client.force_login(alice)
    client.post("/w/acme/starters/order-saga/")
    second = client.post("/w/acme/starters/order-saga/")
    assert second.url == "/w/acme/workflows/order-saga-2/"
    assert Workflow.objects.filter(slug__startswith="order-saga").count() == 2
    # Edits to one draft leave the starter itself as it was
    first = Workflow.objects.get(slug="order-saga")
    first.draft["steps"].pop()
    first.save()
    assert len(starters.ORDER_SAGA.definition["steps"]) == 3
    assert "Build your first workflow" not in client.get("/w/acme/").content.decode()


def test_viewers_strangers_and_unknown_starters_make_nothing(client, bob, charlie):
    for person in (bob, charlie):
        client.force_login(person)
        assert client.post("/w/acme/starters/order-saga/").status_code == 404
    client.force_login(bob)
    assert "Use this starter" not in client.get("/w/acme/").content.decode()
    assert client.get("/w/acme/starters/order-saga/").status_code in (404, 405)
    assert not Workflow.objects.exists()


def test_an_unknown_starter_is_a_404(client, alice):
    client.force_login(alice)
    assert client.post("/w/acme/starters/nope/").status_code == 404


def test_a_new_empty_builder_guides_instead_of_showing_an_error(client, alice):
    client.force_login(alice)
    client.post("/w/acme/workflows/", {"name": "Fresh"})
    page = client.get("/w/acme/workflows/fresh/").content.decode()
    assert "Empty: add a first step" in page and 'id="empty-guide"' in page
    assert "problem" not in page.split('id="draft-status"')[1].split("</div>")[0]
    assert "must be a non-empty list" not in page
    # Publishing it still says why not
    refused = client.post("/w/acme/workflows/fresh/publish/", {"note": ""})
    assert refused.status_code == 422
    assert "must be a non-empty list" in refused.content.decode()
