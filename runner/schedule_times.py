"""When a schedule fires: a cron expression (cronsim) or a fixed interval, in a time zone.

Pure functions of the schedule's spec and a moment; every datetime in and out is aware.
Daylight saving time follows cron's rule (cronsim's): a time skipped by a spring-forward
fires once, at the first moment after the gap (02:30 becomes 03:00), and a time repeated
by a fall-back fires once, at its first occurrence. Expressions of every few minutes keep
their pace in real time through both.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cronsim import CronSim, CronSimError

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MIN_INTERVAL_S = 1
MAX_INTERVAL_S = 366 * 86400  # a year; longer ones are cron's business (@yearly)
MAX_CRON_LENGTH = 100


@dataclass(frozen=True)
class Spec:
    cron: str = ""
    interval_s: int | None = None
    timezone: str = "UTC"
    anchor: datetime | None = None  # intervals count from here (the schedule's creation)


def problems(spec):
    """Field errors of a spec, {"cron": [...], ...}; empty when it can fire."""
    errors = {}
    if bool(spec.cron) == (spec.interval_s is not None):
        errors["cron"] = ["Give either a cron expression or an interval, not both."]
        return errors
    if spec.cron:
        try:
            _cron(spec.cron, datetime.now(UTC))
        except (CronSimError, ValueError) as error:
            errors["cron"] = [f"Not a valid cron expression: {error}"]
    elif not isinstance(spec.interval_s, int) or not (
        MIN_INTERVAL_S <= spec.interval_s <= MAX_INTERVAL_S
    ):
        errors["interval_s"] = [
            f"Must be a whole number of seconds from {MIN_INTERVAL_S} to {MAX_INTERVAL_S}."
        ]
    try:
        zone(spec.timezone)
    except ValueError as error:
        errors["timezone"] = [str(error)]
    return errors


def zone(name):
    if name not in _zone_names():
        raise ValueError(f"Unknown time zone {name!r}; use an IANA name such as Europe/Berlin.")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        raise ValueError(f"Unknown time zone {name!r}.")


def times_after(spec, after):
    """The fire times strictly after `after`, in order, as aware UTC datetimes (endless)."""
    if spec.interval_s:
        anchor = spec.anchor or after
        step = timedelta(seconds=spec.interval_s)
        elapsed = max((after - anchor) // step + 1, 0)
        moment = anchor + elapsed * step
        while True:
            if moment > after:
                yield moment.astimezone(UTC)
            moment += step
    else:
        for moment in _cron(spec.cron, after.astimezone(zone(spec.timezone))):
            if moment > after:
                yield moment.astimezone(UTC)


def next_times(spec, after, count=5):
    return list(islice(times_after(spec, after), count))


def times_between(spec, start, end, limit):
    """Fire times in (start, end], at most `limit` of them."""
    found = []
    for moment in times_after(spec, start):
        if moment > end or len(found) >= limit:
            break
        found.append(moment)
    return found


def _cron(expression, start):
    expression = expression.strip()
    if len(expression) > MAX_CRON_LENGTH:
        raise ValueError(f"longer than {MAX_CRON_LENGTH} characters")
    expression = ALIASES.get(expression.lower(), expression)
    if len(expression.split()) != 5:
        raise ValueError("use 5 fields: minute hour day-of-month month day-of-week")
    # cronsim counts from the start's wall-clock minute; the start itself may match.
    return CronSim(expression, start.replace(second=0, microsecond=0) - timedelta(seconds=1))


_zones = None


def _zone_names():
    global _zones
    if _zones is None:
        _zones = available_timezones() | {"UTC"}
    return _zones
