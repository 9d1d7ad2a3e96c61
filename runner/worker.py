"""Entry point for the `dramatiq` command: `dramatiq runner.worker:broker`."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
django.setup()

from runner.tasks import broker  # noqa: E402

__all__ = ["broker"]
