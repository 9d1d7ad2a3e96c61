"""Durations in words, as the builder and the engine's messages say them."""


def duration(seconds):
    """0.25 -> '250 ms', 1.5 -> '1.5 s', 64 -> '1 min 4 s', 7380 -> '2 h 3 min'."""
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        text = f"{seconds:.1f}".rstrip("0").rstrip(".")
        return f"{text} s"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"
