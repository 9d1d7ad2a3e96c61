"""Medians, spreads and percentiles of the figures, and the table the bench prints."""

import math
import statistics


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values):
    """(min, max) of the rounds: with 3 to 5 rounds a range says more than a deviation."""
    values = [v for v in values if v is not None]
    return (min(values), max(values)) if values else None


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def fmt(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:,.{digits}f}"


def table(rows):
    """rows: [(label, [values per round], unit)] -> aligned text with median and range."""
    lines = [f"{'figure':<44} {'median':>10} {'min':>10} {'max':>10}  unit"]
    for label, values, unit in rows:
        low, high = spread(values) or (None, None)
        digits = 2 if unit == "x" else 1
        cells = [fmt(value, digits) for value in (median(values), low, high)]
        lines.append(f"{label:<44} {cells[0]:>10} {cells[1]:>10} {cells[2]:>10}  {unit}")
    return "\n".join(lines)
