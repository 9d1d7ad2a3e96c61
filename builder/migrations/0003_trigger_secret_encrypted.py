from django.db import migrations, models


def encrypt_existing(apps, schema_editor):
    """Each plain signing secret becomes a Fernet token under the current key."""
    from core import vault

    Trigger = apps.get_model("builder", "Trigger")
    for trigger in Trigger.objects.exclude(secret="").only("id", "secret"):
        Trigger.objects.filter(id=trigger.id).update(encrypted_secret=vault.encrypt(trigger.secret))


def decrypt_existing(apps, schema_editor):
    from core import vault

    Trigger = apps.get_model("builder", "Trigger")
    for trigger in Trigger.objects.exclude(encrypted_secret="").only("id", "encrypted_secret"):
        plain = vault.decrypt(trigger.encrypted_secret, f"of webhook {trigger.id}")
        Trigger.objects.filter(id=trigger.id).update(secret=plain)


class Migration(migrations.Migration):
    """Webhook signing secrets are stored encrypted, like workspace secrets (core/vault.py)."""

    dependencies = [
        ("builder", "0002_trigger_webhookdelivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="trigger",
            name="encrypted_secret",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
        migrations.RemoveField(model_name="trigger", name="secret"),
    ]
