"""`manage.py seed_demo`: a demo user, workspace and published workflows; safe to run again.

`make run` calls it on every start, so a fresh checkout has something to click and run.
Never run it on a server people reach from elsewhere: the demo user is a superuser.
"""

import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from builder.definition import validate
from builder.demo import WORKFLOWS
from builder.models import Workflow
from core.actions.registry import sync_actions
from core.errors import InvalidDefinition
from core.models import Membership, Role, Workspace

USERNAME = "demo"
WORKSPACE = {"slug": "demo", "name": "Demo"}


class Command(BaseCommand):
    help = "Create the demo user, the Demo workspace and its published workflows."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password-file",
            type=Path,
            help="set the demo user's password to this file's content (default: keep it; "
            "a new user gets a random one, printed once)",
        )

    def handle(self, *args, password_file=None, **options):
        password = _read_password(password_file) if password_file else None
        sync_actions()
        with transaction.atomic():
            user, new_password = _demo_user(password)
            workspace, _ = Workspace.objects.get_or_create(
                slug=WORKSPACE["slug"], defaults={"name": WORKSPACE["name"]}
            )
            Membership.objects.update_or_create(
                workspace=workspace, user=user, defaults={"role": Role.OWNER}
            )
            loaded = [_demo_workflow(workspace, user, slug, spec) for slug, spec in WORKFLOWS]
        names = ", ".join(
            f"{slug!r} v{version.number}" + (" (published now)" if published else "")
            for slug, version, published in loaded
        )
        self.stdout.write(f"demo user {user.username!r}, workspace {workspace.slug!r}: {names}")
        if new_password and not password:
            self.stdout.write(f"demo password: {new_password}")


def _read_password(path):
    try:
        password = path.read_text().strip()
    except OSError as error:
        raise CommandError(f"cannot read the password file: {error}")
    if not password:
        raise CommandError(f"the password file {path} is empty")
    return password


def _demo_user(password):
    """The demo superuser; returns (user, the password set now or None)."""
    user, created = get_user_model().objects.get_or_create(
        username=USERNAME, defaults={"email": "demo@localhost"}
    )
    user.is_staff = user.is_superuser = True
    new_password = password or (secrets.token_urlsafe(12) if created else None)
    if new_password:
        user.set_password(new_password)
    user.save()
    return user, new_password


def _demo_workflow(workspace, user, slug, spec):
    """Publish `spec` unless the latest version already is it (actions pinned alike)."""
    try:
        definition = validate(spec, workspace, slug=slug)
    except InvalidDefinition as error:
        raise CommandError(f"the demo workflow {slug} is invalid: {error.fields}")
    workflow, _ = Workflow.objects.get_or_create(
        workspace=workspace,
        slug=slug,
        defaults={"name": spec["name"], "draft": spec, "created_by": user},
    )
    latest = workflow.latest_version()
    if latest is not None and latest.definition == definition:
        return slug, latest, False
    workflow.draft = spec
    workflow.save(update_fields=["draft", "updated_at"])
    return slug, workflow.publish(definition, note="demo workflow", user=user), True
