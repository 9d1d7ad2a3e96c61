from django.apps import AppConfig


class BuilderConfig(AppConfig):
    name = "builder"
    verbose_name = "Workflows"

    def ready(self):
        from builder import webhook_cache  # noqa: F401 (connects its signal receivers)
