"""Reading the dates and times staff type on the command line, in the clinic's time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from admin_cli.errors import InvalidInput

_DATE_WORDS = {"yesterday": -1, "today": 0, "tomorrow": 1}
_LOCAL_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2})")

# The dates staff may type. Python's datetime ends at 9999-12-31, and a
# command may look up to 63 days past a typed date (`hours --days` up to
# 62, then the next midnight) or convert it to UTC, so the last year
# accepted is 9998. The first year accepted, 1900, is earlier than any
# clinic record and keeps UTC conversions clear of datetime's year 1.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9998, 12, 31)


def parse_day(text: str, now: datetime, zone: tzinfo, option: str = "--date") -> date:
    """Read ``today``, ``tomorrow``, ``yesterday`` or an ISO date such as ``2027-03-08``."""
    cleaned = text.strip().lower()
    if cleaned in _DATE_WORDS:
        return now.astimezone(zone).date() + timedelta(days=_DATE_WORDS[cleaned])
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(f"{option} must be an ISO date such as 2027-03-08, or today or tomorrow") from None
    return _check_range(day, option)


def parse_since(text: str, now: datetime, zone: tzinfo) -> datetime:
    """Read the start of a period: a day word, an ISO date (its local midnight) or an ISO date-time.

    A date-time without a UTC offset is read as the clinic's local time.
    """
    cleaned = text.strip()
    if cleaned.lower() in _DATE_WORDS or re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
        day = parse_day(cleaned, now, zone, "--since")
        return day_bounds(day, zone)[0]
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(
            "--since must be today, yesterday, an ISO date such as 2027-03-08 "
            "or an ISO date-time such as 2027-03-08T14:30"
        ) from None
    _check_range(parsed.date(), "--since")
    if parsed.tzinfo is None:
        return local_instant(parsed.date(), parsed.time(), zone)
    return parsed.astimezone(UTC)


def parse_local_datetime(text: str, zone: tzinfo) -> datetime:
    """Read ``2027-03-08T14:30`` or ``2027-03-08 14:30`` as a wall-clock time in ``zone``; return UTC.

    An explicit UTC offset is accepted too. A wall time that the clocks skip
    (the hour lost when daylight saving starts) is rejected rather than moved.
    """
    cleaned = text.strip()
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        parsed = None
    if parsed is None or not _LOCAL_DATE_TIME.match(cleaned):
        raise InvalidInput(
            "the time must be a local date and time such as 2027-03-08T14:30 or '2027-03-08 14:30'"
        )
    _check_range(parsed.date(), "the time")
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    return local_instant(parsed.date(), parsed.time(), zone)


def _check_range(day: date, option: str) -> date:
    """Raise ``InvalidInput`` when ``day`` is outside the dates staff may type; return it otherwise."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidInput(f"{option} must be a date from {EARLIEST_DAY} to {LATEST_DAY}")
    return day


def local_instant(day: date, clock: time, zone: tzinfo) -> datetime:
    """Return the UTC instant of a local date and wall-clock time; the first one if it occurs twice."""
    wall = datetime.combine(day, clock)
    aware = wall.replace(tzinfo=zone, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        raise InvalidInput(
            f"{wall:%Y-%m-%d %H:%M} does not exist in the clinic's time zone "
            "(the clocks skip it when daylight saving starts); choose another time"
        )
    return instant


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """Return the UTC instants at which a local day starts and the next one starts."""
    start = _first_instant_of(day, zone)
    end = _first_instant_of(day + timedelta(days=1), zone)
    return start, end


def _first_instant_of(day: date, zone: tzinfo) -> datetime:
    # Some zones skip midnight itself when daylight saving starts, so the day
    # then begins at the first wall time that exists.
    wall = datetime.combine(day, time(0, 0))
    while True:
        instant = wall.replace(tzinfo=zone).astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:
            return instant
        wall += timedelta(minutes=15)
