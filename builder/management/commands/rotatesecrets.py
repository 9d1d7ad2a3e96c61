"""`manage.py rotatesecrets`: re-encrypt every stored secret under the first SECRETS_KEYS key.

Run it after putting a new key first in SECRETS_KEYS (on every host, restarted), then drop
the old key from the list. Workspace secrets and webhook signing secrets are both covered.
Each row is written with a compare-and-set on its old token, so a value someone saves
meanwhile is kept, not overwritten with the old one.
"""

from django.core.management.base import BaseCommand, CommandError

from builder.models import Trigger
from core import vault
from core.errors import SecretUnreadable
from core.models import Secret

# (model, encrypted column, how a row is named in messages; never its value)
STORES = [
    (Secret, "encrypted", lambda row: f"secret {row.name} of workspace {row.workspace_id}"),
    (Trigger, "encrypted_secret", lambda row: f"signing secret of webhook {row.id}"),
]


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the first key of SECRETS_KEYS."

    def handle(self, *args, **options):
        unreadable = []
        for model, column, describe in STORES:
            done = 0
            for row in model.objects.exclude(**{column: ""}).iterator():
                old = getattr(row, column)
                try:
                    new = vault.rotate(old, describe(row))
                except SecretUnreadable:
                    unreadable.append(describe(row))
                    continue
                done += model.objects.filter(id=row.id, **{column: old}).update(**{column: new})
            self.stdout.write(f"{model._meta.verbose_name_plural}: {done} re-encrypted")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} could not be decrypted with any key of SECRETS_KEYS "
                f"(nor SECRET_KEY); set them again: {', '.join(unreadable)}"
            )
