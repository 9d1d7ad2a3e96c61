from django.core.management.base import BaseCommand

from core.actions.registry import sync_actions


class Command(BaseCommand):
    help = "Create Action/ActionVersion rows for every action registered in code."

    def handle(self, *args, **options):
        created = sync_actions()
        self.stdout.write(f"{created} new action version(s)")
