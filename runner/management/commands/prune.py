"""`manage.py prune`: apply the retention policies now, instead of waiting for the sweeper.

It deletes in the same small batches as the sweeper (runner/pruning.py), so it is safe
while workers run; `--dry-run` only counts.
"""

from django.core.management.base import BaseCommand, CommandError

from core.models import Workspace
from runner import pruning


class Command(BaseCommand):
    help = "Delete the runs each workspace's retention policy lets go, now."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="only this workspace (its slug)")
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, workspace=None, dry_run=False, **options):
        workspaces = Workspace.objects.order_by("slug")
        if workspace:
            workspaces = workspaces.filter(slug=workspace)
            if not workspaces.exists():
                raise CommandError(f"no workspace {workspace!r}")
        if dry_run:
            for each in workspaces:
                figures = pruning.figures(each)
                self.stdout.write(
                    f"{each.slug}: would remove {figures['due_runs']} runs "
                    f"({figures['due_attempts']} attempts) of {figures['runs']}"
                )
            return
        removed = pruning.prune_all(workspaces=workspaces)
        slugs = dict(workspaces.values_list("id", "slug"))
        for workspace_id, runs in sorted(removed.by_workspace.items()):
            self.stdout.write(f"{slugs[workspace_id]}: removed {runs} runs")
        self.stdout.write(f"removed {removed}")
