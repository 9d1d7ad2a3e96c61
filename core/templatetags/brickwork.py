"""Filters the pages share: durations, JSON, compact times."""

import json

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def duration(seconds):
    """812 ms, 2.4 s, 3 m 12 s, 1 h 02 m."""
    if seconds is None or seconds == "":
        return "—"
    seconds = float(seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} m {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m"


@register.filter
def ms(milliseconds):
    return duration(None if milliseconds is None else milliseconds / 1000)


@register.filter
def pretty_json(value):
    return json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False, default=str)


@register.filter
def ago(moment):
    """A short age: 5 s, 3 m, 2 h, 4 d ago."""
    if not moment:
        return "—"
    seconds = (timezone.now() - moment).total_seconds()
    if seconds < 60:
        return f"{max(int(seconds), 0)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} m ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
