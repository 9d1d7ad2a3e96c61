"""What a webhook delivery needs before it starts a run, cached per process by token.

Looking up the trigger (with its workflow and workspace) and the workflow's latest version
took two of a delivery's statements. Both are kept here for `WEBHOOK_CACHE_S` seconds
(default 2). A trigger saved or deleted, or a version published, in this process clears
the cache at once and again when its transaction commits; a change made by another
process reaches this one within the TTL. A delivery to a trigger deleted in the meantime
fails its insert, and `builder/webhooks.py` then looks again without the cache.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from builder.models import Trigger, WorkflowVersion

MAX_ENTRIES = 10_000  # tokens; past it the cache starts over rather than grow

_entries = {}  # token -> (expires at, Target)
_generation = 0  # bumped by forget(): a lookup that raced a change is not stored


@dataclass(frozen=True)
class Target:
    trigger: Trigger  # with .workflow and .workflow.workspace loaded
    version: WorkflowVersion | None  # the latest, immutable; None before the first publish


def target(token, *, fresh=False):
    """The trigger behind `token` and its workflow's latest version, or None."""
    now = time.monotonic()
    entry = None if fresh else _entries.get(token)
    if entry is not None and entry[0] > now:
        return entry[1]
    generation = _generation
    found = _load(token)
    ttl = settings.WEBHOOK_CACHE_S
    if found is not None and ttl > 0 and generation == _generation:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[token] = (now + ttl, found)
    return found


def forget():
    """Drop every entry (changes are rare next to deliveries)."""
    global _generation
    _generation += 1
    _entries.clear()


def _load(token):
    trigger = Trigger.objects.select_related("workflow__workspace").filter(token=token).first()
    if trigger is None:
        return None
    return Target(trigger, trigger.workflow.latest_version())


@receiver([post_save, post_delete], sender=Trigger)
@receiver([post_save, post_delete], sender=WorkflowVersion)
def _changed(**kwargs):
    forget()
    # A lookup between now and the commit still reads the old rows: forget them again then.
    transaction.on_commit(forget, using=kwargs.get("using"))
