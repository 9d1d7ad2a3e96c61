from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Brickwork core"

    def ready(self):
        from django.db.models.signals import post_migrate

        from core import outbound
        from core.actions.registry import sync_after_migrate

        outbound.rules()  # a malformed OUTBOUND_ALLOW / OUTBOUND_DENY stops start-up

        post_migrate.connect(sync_after_migrate, sender=self)
