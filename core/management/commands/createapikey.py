"""`manage.py createapikey --workspace NAME --name LABEL [--role ROLE] [--create]`: a new API key, shown once.

The key is printed alone on the last line, so scripts can take it with `tail -n 1`.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from core.models import ApiKey, Role, Workspace


class Command(BaseCommand):
    help = "Create an API key for a workspace and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="the workspace's name or slug")
        parser.add_argument("--name", required=True, help="a label to recognise the key by")
        parser.add_argument(
            "--role",
            choices=Role.values,
            default=Role.EDITOR,
            help="what the key may do (default: editor; owner also manages members)",
        )
        parser.add_argument(
            "--create", action="store_true", help="create the workspace (with no members)"
        )

    def handle(self, *args, workspace, name, role, create, **options):
        if not name.strip() or len(name) > 100:
            raise CommandError("--name must be 1-100 characters")
        with transaction.atomic():
            found = Workspace.objects.filter(Q(slug=workspace) | Q(name=workspace)).first()
            if found is None and not create:
                raise CommandError(f"no workspace {workspace!r}; add --create to make it")
            if found is None and not 0 < len(workspace.strip()) <= 100:
                raise CommandError("--workspace must be 1-100 characters")
            if found is None:
                found = Workspace.objects.create(name=workspace, slug=_free_slug(workspace))
                self.stdout.write(f"Created workspace {found.name} ({found.slug}).")
            key, raw = ApiKey.issue(found, name.strip(), role)
        self.stdout.write(
            f"API key {key.name!r} ({key.prefix}…, {key.role}) for workspace {found.slug}; "
            "store it now, it is not shown again:"
        )
        self.stdout.write(raw)


def _free_slug(name):
    base = slugify(name)[:90] or "workspace"
    slug, number = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug
