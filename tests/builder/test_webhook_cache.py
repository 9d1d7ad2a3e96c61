"""The per-process webhook cache: changes here apply at once, changes elsewhere within the TTL."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from builder.definition import validate
from builder.models import Trigger, WebhookDelivery, Workflow
from runner.models import Run
from tests.builder.test_webhooks import BODY, DEFINITION, make_trigger, post
from tests.runs import wait_for


@pytest.fixture
def workflow(workspace):
    workflow = Workflow.objects.create(workspace=workspace, slug="signup", name="On signup")
    workflow.publish(validate(DEFINITION, workspace))
    return workflow


@pytest.mark.django_db
def test_a_second_delivery_reads_neither_the_trigger_nor_the_version(client, workflow):
    trigger = make_trigger(workflow)
    assert post(client, trigger).status_code == 202
    with CaptureQueriesContext(connection) as queries:
        assert post(client, trigger).status_code == 202
    # The only statement on the builder's tables writes the delivery's own record (with
    # the run's rows, on PostgreSQL), and reads none of them
    [touching] = [q["sql"] for q in queries if "builder_" in q["sql"]]
    assert 'INSERT INTO "builder_webhookdelivery"' in touching
    assert touching.count("builder_") == 1


@pytest.mark.django_db
def test_disabling_a_trigger_takes_effect_at_once(client, workflow):
    # Given a trigger whose first delivery filled the cache
    trigger = make_trigger(workflow)
    assert post(client, trigger).status_code == 202
    # When it is disabled (the page and the API both save it), then the next delivery is 404
    trigger.enabled = False
    trigger.save(update_fields=["enabled", "updated_at"])
    assert post(client, trigger).status_code == 404
    assert Run.objects.count() == 1


@pytest.mark.django_db
def test_a_newly_published_version_is_used_by_the_next_delivery(client, workflow, workspace):
    trigger = make_trigger(workflow)
    first = post(client, trigger)
    renamed = {**DEFINITION, "name": "On signup, v2"}
    second_version = workflow.publish(validate(renamed, workspace))
    second = post(client, trigger)
    runs = Run.objects.in_bulk([first.json()["run"], second.json()["run"]])
    assert runs[first.json()["run"]].workflow_version.number == 1
    assert runs[second.json()["run"]].workflow_version_id == second_version.id
    assert runs[second.json()["run"]].definition["name"] == "On signup, v2"


@pytest.mark.django_db
def test_a_change_made_by_another_process_applies_within_the_ttl(client, workflow, settings):
    # Given a short TTL and a cached trigger
    settings.WEBHOOK_CACHE_S = 0.2
    trigger = make_trigger(workflow)
    assert post(client, trigger).status_code == 202
    # When another process disables it (an UPDATE this process hears nothing of)
    Trigger.objects.filter(id=trigger.id).update(enabled=False)
    # Then this process still accepts until the entry expires, and refuses after
    assert post(client, trigger).status_code == 202
    time.sleep(0.25)
    assert post(client, trigger).status_code == 404


@pytest.mark.django_db
def test_no_cache_at_all_with_a_ttl_of_zero(client, workflow, settings):
    settings.WEBHOOK_CACHE_S = 0
    trigger = make_trigger(workflow)
    assert post(client, trigger).status_code == 202
    Trigger.objects.filter(id=trigger.id).update(enabled=False)
    assert post(client, trigger).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_trigger_deleted_by_another_process_is_404_and_starts_nothing(client, workflow, worker):
    # Given a cached trigger
    trigger = make_trigger(workflow)
    assert post(client, trigger, body=BODY).status_code == 202
    # When another process deletes it (plain SQL: no signal reaches this process)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM builder_webhookdelivery WHERE trigger_id = %s", [trigger.id])
        cursor.execute("DELETE FROM builder_trigger WHERE id = %s", [trigger.id])
    # Then the delivery's insert fails, the run rolls back, and the answer is 404
    response = post(client, trigger)
    assert response.status_code == 404
    assert Run.objects.count() == 1
    assert not WebhookDelivery.objects.exists()
    # The first delivery's run ends before the test does: a worker alive since an earlier
    # test would otherwise run it while the tables are flushed (a deadlock).
    wait_for(Run.objects.get())
