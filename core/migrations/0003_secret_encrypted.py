from django.db import migrations


class Migration(migrations.Migration):
    """Secret values are stored encrypted from now on (core/vault.py).

    No data migration: no secrets exist in production yet. A row saved before this holds
    plain text, which cannot be decrypted: the secrets page marks it for setting again.
    """

    dependencies = [
        ("core", "0002_idempotencykey"),
    ]

    operations = [
        migrations.RenameField(model_name="secret", old_name="value", new_name="encrypted"),
    ]
