"""Small filters the builder's templates need."""

from django import template

from builder import retry_preview

register = template.Library()


@register.filter
def get(mapping, key):
    """`errors|get:slot`: a dict lookup by a variable key."""
    return mapping.get(key, []) if isinstance(mapping, dict) else []


@register.filter
def duration(seconds):
    try:
        return retry_preview.duration(float(seconds))
    except (TypeError, ValueError):
        return ""
