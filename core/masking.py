"""Hide secret values wherever they could show: errors, logs, outputs, pages, API answers.

The worker never writes a secret it filled in into history, but an action may return one
it was given (an echo, a response that reflects a header), or a run's own input may carry
one: everything shown to a person or a program goes through these too.
"""

MASK = "***"
MIN_LENGTH = 4  # shorter values would mask ordinary words


def mask_text(text, values):
    for value in sorted(_maskable(values), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def mask_value(value, values):
    """A copy of a JSON value with every secret inside its strings (and keys) masked."""
    if not _maskable(values):
        return value
    if isinstance(value, str):
        return mask_text(value, values)
    if isinstance(value, dict):
        return {mask_text(k, values): mask_value(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(item, values) for item in value]
    return value


def _maskable(values):
    return [v for v in (values or ()) if v and len(v) >= MIN_LENGTH]
