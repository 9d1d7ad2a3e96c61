"""A workspace's limits on its actions: the rules of one, and which ones a step falls under.

An ActionLimit names an action (`http.request`) and caps how many of its attempts run at
once and how many start per second. With a key, a reference into the step's input
(`{{ input.url }}`, taken whole or as the URL's host, or `{{ input.customer_id }}`), each
value of the key has its own caps: "at most 5 at once and 10 per second to each host".
"""

import json
import time
from urllib.parse import urlsplit

import redis
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core import limits, references
from core.audit import delete_recorded, record_save
from core.counters import coordination_redis
from runner.models import ActionLimit, KeyPart

MAX_RATE = 10_000
MAX_BURST = 10_000
MAX_CONCURRENT = 100_000
# How often a worker process looks whether the limits changed: a change takes effect
# within this.
CACHE_S = 1.0
NO_KEY = "(none)"  # the key of a step whose input lacks what the key refers to

VERSION_KEY = "brickwork:limits:version"
UNKNOWN = object()  # the version, when Redis does not answer

_cache = {}  # workspace id -> (checked at, version, {action name: [ActionLimit, ...]})


def problems(limit):
    """{field: [message]} of what is wrong with `limit`, {} when nothing is."""
    errors = {}
    if not (limit.name or "").strip():
        errors["name"] = ["Give the limit a name."]
    elif (
        ActionLimit.objects.filter(workspace_id=limit.workspace_id, name=limit.name)
        .exclude(id=limit.id)
        .exists()
    ):
        errors["name"] = ["This workspace has a limit of this name already."]
    if not (limit.action or "").strip():
        errors["action"] = ["Name the action this limit applies to, e.g. http.request."]
    if limit.key:
        if not references.is_whole_reference(limit.key):
            errors["key"] = ["One reference into the step's input, like {{ input.url }}."]
        else:
            path = next(references.find(limit.key))[1]
            if not path.startswith("input."):
                errors["key"] = ["A key refers to the step's input: {{ input.something }}."]
    if limit.key_part not in KeyPart.values:
        errors["key_part"] = [f"One of: {', '.join(KeyPart.values)}."]
    if limit.max_concurrent is None and limit.rate_per_s is None:
        errors["max_concurrent"] = ["Give at most how many at once, a rate, or both."]
    if limit.max_concurrent is not None and not 1 <= limit.max_concurrent <= MAX_CONCURRENT:
        errors["max_concurrent"] = [f"Between 1 and {MAX_CONCURRENT:,}."]
    if limit.rate_per_s is not None and not 0.001 <= limit.rate_per_s <= MAX_RATE:
        errors["rate_per_s"] = [f"Between 0.001 and {MAX_RATE:,} per second."]
    if not 1 <= (limit.burst or 0) <= MAX_BURST:
        errors["burst"] = [f"Between 1 and {MAX_BURST:,}."]
    return errors


def save(limit, changes):
    """Apply `changes` (field -> value) if they fit together; the field errors, or {}."""
    for field, value in changes.items():
        setattr(limit, field, value)
    if isinstance(limit.name, str):
        limit.name = limit.name.strip()
    if isinstance(limit.action, str):
        limit.action = limit.action.strip()
    if isinstance(limit.key, str):
        limit.key = limit.key.strip()
    errors = problems(limit)
    if not errors:
        created = limit.pk is None
        limit.save()
        record_save("limit", limit.workspace, limit, created, changes)
    return errors


def delete(limit):
    delete_recorded("limit", limit.workspace, limit)


def describe(limit):
    """ "at most 3 at once, 5 per second (burst 2)" for pages."""
    parts = []
    if limit.max_concurrent:
        parts.append(f"at most {limit.max_concurrent} at once")
    if limit.rate_per_s:
        burst = f" (burst {limit.burst})" if limit.burst > 1 else ""
        parts.append(f"{limit.rate_per_s:g} per second{burst}")
    return ", ".join(parts)


def applies(workspace_id, action_name):
    """Whether any limit of the workspace names this action (cached per process)."""
    return bool(_limits_of(workspace_id).get(action_name))


def for_step(workspace_id, action_name, step_input):
    """The core.limits buckets a step of `action_name` with `step_input` falls under."""
    found = []
    for limit in _limits_of(workspace_id).get(action_name, ()):
        value = key_value(limit, step_input) if limit.key else ""
        name = f"{limit.name} ({value})" if limit.key else limit.name
        found.append(
            limits.Limit(
                name=name,
                bucket=f"action:{limit.id}:{value}",
                max_concurrent=limit.max_concurrent,
                rate_per_s=limit.rate_per_s,
                burst=limit.burst,
            )
        )
    return found


def key_value(limit, step_input):
    """The value of the limit's key for one step: text, the URL's host where asked."""
    try:
        value = references.render(limit.key, {"input": step_input or {}})
    except references.MissingReference:
        return NO_KEY
    if value is None:
        return NO_KEY
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if limit.key_part == KeyPart.HOST:
        try:
            text = (urlsplit(text).hostname or "") if "//" in text else ""
        except ValueError:
            text = ""
    return text[:200] or NO_KEY


def forget(workspace_id=None):
    """Drop what this process read of the limits (tests)."""
    if workspace_id is None:
        _cache.clear()
    else:
        _cache.pop(workspace_id, None)


@receiver(post_save, sender=ActionLimit)
@receiver(post_delete, sender=ActionLimit)
def _changed(sender, instance, **kwargs):
    """Every process re-reads the limits after a change (within CACHE_S): the version
    they compare with moves on."""
    forget(instance.workspace_id)
    changed()


def changed():
    """Tell every process to read the limits again (also for tests, whose emptied tables
    send no signal)."""
    try:
        coordination_redis().incr(VERSION_KEY)
    except redis.RedisError:
        pass  # processes fall back to reading the table every CACHE_S


def _limits_of(workspace_id):
    """The workspace's limits by action. Read from the table once, then kept while the
    version in the coordination Redis stays the same (looked at every CACHE_S): a step
    costs no query for limits, whether or not its workspace has any."""
    now = time.monotonic()
    entry = _cache.get(workspace_id)
    if entry is not None and entry[0] > now - CACHE_S:
        return entry[2]
    version = _version()
    if entry is not None and version is not UNKNOWN and version == entry[1]:
        _cache[workspace_id] = (now, version, entry[2])
        return entry[2]
    by_action = {}
    for limit in ActionLimit.objects.filter(workspace_id=workspace_id).order_by("id"):
        by_action.setdefault(limit.action, []).append(limit)
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[workspace_id] = (now, version, by_action)
    return by_action


def _version():
    try:
        return coordination_redis().get(VERSION_KEY)
    except redis.RedisError:
        return UNKNOWN
