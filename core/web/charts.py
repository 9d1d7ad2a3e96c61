"""Small server-rendered SVG charts: geometry computed here, drawn by the template."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    ok_y: float
    ok_height: float
    bad_y: float
    bad_height: float
    label: str
    title: str


def stacked_bars(buckets, width=720, height=210, top=10, bottom=22, gutter=30):
    """Geometry of one stacked bar per bucket: `buckets` is [(label, ok, bad)].

    Returns the bars, the horizontal grid lines [(y, value)] and the chart's size.
    """
    peak = max((ok + bad for _, ok, bad in buckets), default=0)
    scale_max = _nice_ceiling(peak)
    plot = height - top - bottom
    slot = (width - gutter) / max(len(buckets), 1)
    bars = []
    for index, (label, ok, bad) in enumerate(buckets):
        ok_h = plot * ok / scale_max
        bad_h = plot * bad / scale_max
        base = top + plot
        bars.append(
            Bar(
                x=round(gutter + index * slot + slot * 0.15, 2),
                width=round(slot * 0.7, 2),
                ok_y=round(base - ok_h, 2),
                ok_height=round(ok_h, 2),
                bad_y=round(base - ok_h - bad_h, 2),
                bad_height=round(bad_h, 2),
                label=label if index % 3 == 0 else "",
                title=f"{label}: {ok} succeeded, {bad} failed",
            )
        )
    grid = [(round(top + plot - plot * f, 2), round(scale_max * f)) for f in (0, 0.5, 1)]
    return {
        "bars": bars,
        "grid": grid,
        "width": width,
        "height": height,
        "gutter": gutter,
        "label_y": height - 6,
    }


def _nice_ceiling(value):
    """The next of 4, 10, 20, 50, 100, 200, 500... at or above `value`."""
    nice = 4
    steps = (1, 2, 5)
    exponent = 1
    while nice < value:
        for step in steps:
            nice = step * 10**exponent
            if nice >= value:
                break
        exponent += 1
    return nice
