"""Secret values at rest: encrypted under SECRET_KEY, readable after a rotation with fallbacks,
and a clear non-retryable error (never the value) when the key that saved them is gone."""

import pytest
from django.conf import settings
from django.test import override_settings

from core import vault
from core.errors import NonRetryable, SecretUnreadable
from core.models import Secret
from runner import executor, launch
from runner.models import Attempt, Run
from tests.runs import start

VALUE = "sk_live_vault_value_3b7e"


def test_a_value_round_trips_and_is_never_stored_as_written():
    first, second = vault.encrypt(VALUE), vault.encrypt(VALUE)
    assert VALUE not in first and first != second  # random IV: equal values do not show
    assert vault.decrypt(first) == vault.decrypt(second) == VALUE


def test_a_rotated_key_still_reads_through_the_fallbacks():
    # Given a value saved under the current key
    token, old_key, new_key = vault.encrypt(VALUE), settings.SECRET_KEY, "a-new-key-" * 5
    # When the key changes without a fallback, it cannot be read
    with override_settings(SECRET_KEY=new_key), pytest.raises(SecretUnreadable) as raised:
        vault.decrypt(token, "CRM_TOKEN")
    # When the old key is kept as a fallback, it can
    with override_settings(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key]):
        assert vault.decrypt(token) == VALUE
    # The error names the secret, never its value, and is not worth retrying
    assert isinstance(raised.value, NonRetryable) and not raised.value.retryable
    assert "CRM_TOKEN" in str(raised.value) and VALUE not in str(raised.value)
    assert "set its value again" in str(raised.value)


@pytest.mark.parametrize("token", ["", "not a token", "gAAAAAB" + "A" * 100, "é"])
def test_garbage_is_unreadable_not_a_crash(token):
    with pytest.raises(SecretUnreadable):
        vault.decrypt(token)


@pytest.mark.django_db
def test_the_model_stores_ciphertext_and_reads_plain_text(workspace):
    secret, created = Secret.set(workspace, "CRM_TOKEN", VALUE)
    assert created and VALUE not in Secret.objects.values_list("encrypted", flat=True).get()
    assert Secret.objects.get().value == VALUE and Secret.objects.get().readable
    assert Secret.set(workspace, "CRM_TOKEN", "other")[1] is False
    assert Secret.values_of(workspace.id) == {"CRM_TOKEN": "other"}


@pytest.mark.django_db
def test_an_unreadable_secret_fails_the_step_for_good_without_a_crash(workspace, http_server):
    # Given a secret saved under a key this server no longer has
    Secret.objects.create(workspace=workspace, name="OLD_TOKEN", encrypted="gAAAAABold")
    run = start(
        workspace,
        [
            {
                "key": "call",
                "action": "http.request",
                "input": {
                    "url": http_server.url + "/never",
                    "headers": {"Authorization": "Bearer {{ secrets.OLD_TOKEN }}"},
                },
                "retry": {"max_attempts": 3, "initial_interval_s": 0},
            }
        ],
    )
    attempt = Attempt.objects.get(run=run)
    # When a worker runs the step
    executor.execute_attempt(attempt.id, "test-worker", send=launch.send)
    # Then the attempt failed for good, naming the secret, and nothing was sent
    attempt.refresh_from_db()
    assert attempt.status == "failed"
    assert attempt.error["retryable"] is False
    assert "secrets.OLD_TOKEN" in attempt.error["message"]
    assert Attempt.objects.filter(run=run).count() == 1
    assert Run.objects.get(id=run.id).status == "failed"
    assert not any(r["path"] == "/never" for r in http_server.requests)
