"""The parts of limits that need no worker: the Redis algorithms (GCRA, leases), which
bucket a step falls in, the definition's run limits, and the limits page."""

import time

import pytest

from builder.definition import validate
from core import limits
from core.counters import coordination_redis
from core.errors import InvalidDefinition
from runner import action_limits, run_gate
from runner.models import ActionLimit, KeyPart

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_redis():
    for key in coordination_redis().scan_iter("brickwork:limit:*"):
        coordination_redis().delete(key)


def test_gcra_spaces_starts_by_the_rate_and_says_how_long_to_wait(fresh_redis):
    rate = limits.Limit(name="r", bucket="t:rate", rate_per_s=10, burst=2)
    first, second, third = (limits.acquire([rate], f"h{i}", f"w{i}", 5) for i in range(3))
    assert isinstance(first, limits.Grant) and isinstance(second, limits.Grant)
    assert isinstance(third, limits.Refusal) and third.by_rate
    assert 0 < third.wait_s <= 0.1 and third.reason == "10 per second"
    time.sleep(third.wait_s + 0.01)
    assert isinstance(limits.acquire([rate], "h3", "w2", 5), limits.Grant)


def test_a_semaphore_slot_is_leased_renewed_released_and_lapses(fresh_redis):
    one = limits.Limit(name="c", bucket="t:one", max_concurrent=1)
    grant = limits.acquire([one], "a", "a", 0.5)
    refused = limits.acquire([one], "b", "b", 0.5)
    assert isinstance(refused, limits.Refusal) and refused.reason == "1 at once"
    assert limits.renew(grant, 0.5) == 1
    limits.release(grant)
    again = limits.acquire([one], "c", "c", 0.3)
    assert isinstance(again, limits.Grant) and limits.holders(one) == ["c"]
    time.sleep(0.35)  # never renewed: a killed holder
    assert limits.holders(one) == []
    assert isinstance(limits.acquire([one], "d", "d", 0.3), limits.Grant)


def test_several_limits_are_taken_all_or_none(fresh_redis):
    open_ = limits.Limit(name="open", bucket="t:open", max_concurrent=5)
    full = limits.Limit(name="full", bucket="t:full", max_concurrent=1)
    assert isinstance(limits.acquire([full], "x", "x", 5), limits.Grant)
    refused = limits.acquire([open_, full], "y", "y", 5)
    assert refused.limit == full
    assert limits.holders(open_) == []  # nothing half-taken


def test_a_step_falls_in_the_bucket_of_its_key(workspace):
    hosts = ActionLimit.objects.create(
        workspace=workspace, name="hosts", action="http.request", key="{{ input.url }}",
        key_part=KeyPart.HOST, max_concurrent=5, rate_per_s=10,
    )  # fmt: skip
    action_limits.forget()
    [bucket] = action_limits.for_step(
        workspace.id, "http.request", {"url": "https://api.example.com/x"}
    )
    assert bucket.name == "hosts (api.example.com)"
    assert bucket.bucket == f"action:{hosts.id}:api.example.com"
    [missing] = action_limits.for_step(workspace.id, "http.request", {})
    assert missing.name == "hosts ((none))"
    assert action_limits.for_step(workspace.id, "email.send", {}) == []
    assert action_limits.applies(workspace.id, "http.request")


def test_a_definitions_run_limits_are_checked_and_kept(workspace):
    steps = [{"key": "a", "action": "debug.echo"}]
    concurrency = {"key": "{{ input.customer_id }}", "limit": 2}
    clean = validate(
        {"steps": steps, "max_concurrent_runs": 3, "concurrency": concurrency}, workspace
    )
    assert clean["max_concurrent_runs"] == 3 and clean["concurrency"] == concurrency
    assert run_gate.key_of(clean, {"customer_id": 42}) == "42"
    assert run_gate.key_of(clean, {}) == ""
    with pytest.raises(InvalidDefinition) as bad:
        validate(
            {
                "steps": steps,
                "max_concurrent_runs": 0,
                "concurrency": {"key": "x", "limit": True, "y": 1},
            },
            workspace,
        )
    assert set(bad.value.fields) == {
        "max_concurrent_runs", "concurrency.key", "concurrency.limit", "concurrency.y",
    }  # fmt: skip


def test_the_limits_page_adds_shows_and_deletes_limits(client, alice, workspace):
    client.force_login(alice)
    url = f"/w/{workspace.slug}/limits/"
    bad = client.post(url, {"name": "x", "action": "debug.sleep", "key_part": "value", "burst": 1})
    assert bad.status_code == 422
    assert "Give at most how many at once, a rate, or both." in bad.content.decode()
    body = {"name": "sleepers", "action": "debug.sleep", "key_part": "value", "burst": 1,
            "max_concurrent": 3, "rate_per_s": 5}  # fmt: skip
    assert client.post(url, body).status_code == 302
    page = client.get(url).content.decode()
    assert "sleepers" in page and "at most 3 at once, 5 per second" in page
    limit = ActionLimit.objects.get(name="sleepers")
    assert client.post(f"{url}{limit.id}/delete").status_code == 302
    assert not ActionLimit.objects.exists()


def test_a_viewer_sees_the_limits_but_cannot_add_one(client, bob, workspace):
    client.force_login(bob)
    url = f"/w/{workspace.slug}/limits/"
    assert client.get(url).status_code == 200
    body = {
        "name": "x",
        "action": "debug.sleep",
        "key_part": "value",
        "burst": 1,
        "max_concurrent": 1,
    }
    assert client.post(url, body).status_code == 404
    assert not ActionLimit.objects.exists()


def test_the_admin_checks_a_limit_by_the_same_rules(admin_client, workspace):
    url = "/admin/runner/actionlimit/add/"
    body = {"workspace": workspace.id, "name": "x", "action": "debug.sleep", "key": "",
            "key_part": "value", "burst": 1}  # fmt: skip
    refused = admin_client.post(url, body)
    assert refused.status_code == 200
    assert "Give at most how many at once, a rate, or both." in refused.content.decode()
    assert admin_client.post(url, {**body, "rate_per_s": 2}).status_code == 302
    assert ActionLimit.objects.get().rate_per_s == 2
