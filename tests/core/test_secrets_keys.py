"""Secrets at rest under SECRETS_KEYS, apart from SECRET_KEY: webhook signing secrets are
encrypted like workspace secrets, and `manage.py rotatesecrets` moves every stored value to
the first key."""

import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.utils import timezone

from builder.definition import validate
from builder.models import Trigger, Workflow
from builder.signatures import sign_timestamped
from core import vault
from core.errors import SecretUnreadable
from core.models import Secret

VALUE = "sk_live_keys_value_5f1d"
SIGNING = "whsec_keys_signing_7c2e"
OLD_KEY, NEW_KEY = "old-secrets-key-" * 3, "new-secrets-key-" * 3


@pytest.fixture
def workflow(workspace):
    definition = {"name": "Hook", "steps": [{"key": "a", "action": "debug.echo", "input": {}}]}
    workflow = Workflow.objects.create(workspace=workspace, slug="hook", name="Hook")
    workflow.publish(validate(definition, workspace))
    return workflow


def stored(model, column):
    return list(model.objects.values_list(column, flat=True))


def test_secrets_keys_encrypt_apart_from_secret_key():
    # Given a value saved under SECRETS_KEYS
    with override_settings(SECRETS_KEYS=[NEW_KEY]):
        token = vault.encrypt(VALUE)
    # Then SECRET_KEY alone cannot read it, and SECRETS_KEYS can, whatever SECRET_KEY is
    with pytest.raises(SecretUnreadable, match="SECRETS_KEYS"):
        vault.decrypt(token, "CRM_TOKEN")
    with override_settings(SECRETS_KEYS=[NEW_KEY], SECRET_KEY="a-replaced-django-key-" * 3):
        assert vault.decrypt(token) == VALUE


def test_a_value_from_before_secrets_keys_stays_readable():
    legacy = vault.encrypt(VALUE)  # no SECRETS_KEYS: the key derived from SECRET_KEY
    with override_settings(SECRETS_KEYS=[NEW_KEY]):
        assert vault.decrypt(legacy) == VALUE


@pytest.mark.django_db
def test_rotatesecrets_moves_every_stored_value_to_the_first_key(workspace, workflow, capsys):
    # Given a workspace secret and a signing secret saved under the old key
    with override_settings(SECRETS_KEYS=[OLD_KEY]):
        Secret.set(workspace, "CRM_TOKEN", VALUE)
        Trigger.objects.create(
            workflow=workflow, token=Trigger.new_token(), signature="timestamped", secret=SIGNING
        )
    before = stored(Secret, "encrypted") + stored(Trigger, "encrypted_secret")
    # When a new key is put first and the command runs
    with override_settings(SECRETS_KEYS=[NEW_KEY, OLD_KEY]):
        call_command("rotatesecrets")
    assert "secrets: 1 re-encrypted" in capsys.readouterr().out
    after = stored(Secret, "encrypted") + stored(Trigger, "encrypted_secret")
    assert all(a != b for a, b in zip(after, before, strict=True))
    # Then the new key alone reads both, and the old key alone reads neither
    with override_settings(SECRETS_KEYS=[NEW_KEY], SECRET_KEY="x" * 50, SECRET_KEY_FALLBACKS=[]):
        assert Secret.values_of(workspace.id) == {"CRM_TOKEN": VALUE}
        assert Trigger.objects.get().secret == SIGNING
    with override_settings(SECRETS_KEYS=[OLD_KEY]), pytest.raises(SecretUnreadable):
        Trigger.objects.get().secret  # noqa: B018


@pytest.mark.django_db
def test_rotatesecrets_names_what_it_cannot_read_and_never_a_value(workspace, capsys):
    Secret.set(workspace, "GOOD", VALUE)
    Secret.objects.create(workspace=workspace, name="LOST", encrypted="gAAAAABlost")
    with pytest.raises(CommandError, match="secret LOST of workspace") as raised:
        call_command("rotatesecrets")
    assert VALUE not in str(raised.value) + capsys.readouterr().out
    assert Secret.objects.get(name="GOOD").value == VALUE


@pytest.mark.django_db  # not transactional: the run it starts is never sent to a worker
def test_signing_secrets_are_stored_encrypted_and_still_verify(client, workflow):
    # Given a trigger made through the API with a signing secret
    trigger = Trigger.objects.create(
        workflow=workflow, token=Trigger.new_token(), signature="timestamped", secret=SIGNING
    )
    # Then the database holds a token, not the secret
    assert SIGNING not in stored(Trigger, "encrypted_secret")[0]
    # And a delivery signed with the secret is accepted, a wrong one refused
    body = b'{"event": "ping"}'
    for secret, status in [(SIGNING, 202), ("whsec_wrong_secret_0000", 401)]:
        signature = sign_timestamped(secret, body, time.time())
        response = client.post(
            f"/hooks/{trigger.token}",
            data=body,
            content_type="application/json",
            headers={"Brickwork-Signature": signature},
        )
        assert response.status_code == status


@pytest.mark.django_db
def test_a_signing_secret_under_a_lost_key_is_a_401_not_a_crash(client, workflow):
    trigger = Trigger.objects.create(
        workflow=workflow,
        token=Trigger.new_token(),
        signature="hmac",
        signature_header="X-Sig",
        encrypted_secret="gAAAAABlost",
    )
    response = client.post(
        f"/hooks/{trigger.token}",
        data=b"{}",
        content_type="application/json",
        headers={"X-Sig": "00"},
    )
    assert response.status_code == 401
    assert "set a new secret" in response.json()["error"]["message"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_plain_signing_secrets(workflow):
    # Given a trigger row written before the migration, with its secret in plain text
    executor = MigrationExecutor(connection)
    executor.migrate([("builder", "0002_trigger_webhookdelivery")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO builder_trigger (workflow_id, name, kind, token, enabled,"
                " input_mode, headers, accept_text, signature, secret, signature_header,"
                " signature_algorithm, signature_prefix, event_id_header, created_at,"
                " updated_at) VALUES (%s, '', 'webhook', 'tok-before', true, 'envelope', '[]',"
                " false, 'timestamped', %s, '', 'sha256', '', '', %s, %s)",
                [workflow.id, SIGNING, timezone.now(), timezone.now()],
            )
    finally:
        # When the migrations run (always: later tests need the whole schema back)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    # Then the row holds a token that decrypts to the secret
    trigger = Trigger.objects.get(token="tok-before")
    assert SIGNING not in trigger.encrypted_secret and trigger.secret == SIGNING
