"""Conversions between the clinic's local wall clock and UTC instants, across DST.

Rules are written in local time and instants are stored in UTC. Two local
times need a decision on daylight-saving changeover days (in
Australia/Sydney, the first Sundays of April and October):

* a wall time that does not exist (02:30 on the October change, when clocks
  jump from 02:00 to 03:00) maps to the first instant after the gap;
* a wall time that happens twice (02:30 on the April change) maps to its
  first occurrence when it starts something and to its second when it ends
  something, so a session covers every instant its wall-clock hours name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo


class Occurrence(Enum):
    """Which instant an ambiguous wall time maps to."""

    FIRST = 0
    LAST = 1


def wall_time_exists(wall: datetime, zone: ZoneInfo) -> bool:
    """Return whether a naive local datetime occurs in `zone` (is not in a DST gap)."""
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def local_to_utc(
    zone: ZoneInfo, day: date, clock: time, occurrence: Occurrence = Occurrence.FIRST
) -> datetime:
    """Return the UTC instant of a local date and wall-clock time in `zone`."""
    wall = datetime.combine(day, clock)
    if not wall_time_exists(wall, zone):
        # Step forward to the first wall time after the gap; gaps are whole
        # minutes long (an hour in Sydney, half an hour on Lord Howe Island).
        while not wall_time_exists(wall, zone):
            wall += timedelta(minutes=1)
        return wall.replace(tzinfo=zone).astimezone(UTC)
    return wall.replace(tzinfo=zone, fold=occurrence.value).astimezone(UTC)


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    """Return an aware instant as an aware local datetime in `zone`."""
    if instant.tzinfo is None:
        raise ValueError("to_local needs an aware datetime")
    return instant.astimezone(zone)


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    """Return the local calendar date of an instant in `zone`."""
    return to_local(instant, zone).date()


def day_start_utc(zone: ZoneInfo, day: date) -> datetime:
    """Return the UTC instant at which a local date begins."""
    return local_to_utc(zone, day, time(0, 0))


def wall_clock_before(instant: datetime, zone: ZoneInfo, delta: timedelta) -> datetime:
    """Return the instant `delta` of wall-clock time before `instant`, as UTC.

    Cut-offs use wall-clock arithmetic in the clinic's zone: 24 hours before
    09:00 Monday is 09:00 Sunday even when the clocks change overnight.
    """
    wall = to_local(instant, zone).replace(tzinfo=None) - delta
    return local_to_utc(zone, wall.date(), wall.time())


def format_local(instant: datetime, zone: ZoneInfo) -> str:
    """Return an instant as readable local text, such as `Tue 8 Dec 2026 10:15`."""
    local = to_local(instant, zone)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"
