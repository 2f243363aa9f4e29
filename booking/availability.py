"""The availability rules engine: free slots and bookability, in local rules and UTC results.

A slot is a start time on a practitioner's grid: sessions are walked from
their local start in steps of the slot interval, and a slot fits when the
appointment ends by the session's end. A booking occupies its appointment
plus the buffer after it. A slot is free when its own occupied interval
overlaps no existing one, so two bookings are always at least one buffer
apart.

Slot search walks local days from the start point and stops at the end of
the first day on which it has enough slots, so its cost grows with the
number of slots returned and the days it must skip, not with the horizon.
The walk happens in UTC inside each session, with the session's bounds
converted date by date, so on a daylight-saving changeover day no instant
is offered twice and every existing wall-clock time of the session is
offered.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from booking.clinic import AppointmentType, Clinic, Session
from booking.errors import (
    BeyondHorizon,
    InThePast,
    OutsideWorkingHours,
    TooSoon,
    UnknownAppointmentType,
)
from booking.localtime import (
    Occurrence,
    day_start_utc,
    format_local,
    local_date,
    local_to_utc,
    to_local,
    wall_time_exists,
)
from booking.rules import CELL_MINUTES

Interval = tuple[datetime, datetime]
"""A half-open span of time `[start, end)` as aware UTC datetimes."""

BusyLookup = Callable[[datetime, datetime], Mapping[str, Sequence[Interval]]]
"""Return occupied intervals per practitioner id that overlap `[start, end)` in UTC."""

# Busy intervals are fetched for one local day first, then for windows that
# double up to this many days, so a search that finds its slots on the first
# day reads one day of bookings and a long search makes few queries.
_MAX_BUSY_WINDOW_DAYS = 16


class PartOfDay(StrEnum):
    """A part of the local day, judged by a slot's local start time."""

    MORNING = "morning"  # before 12:00
    AFTERNOON = "afternoon"  # 12:00 to 17:00
    EVENING = "evening"  # from 17:00

    def contains(self, clock: time) -> bool:
        """Return whether a local start time falls in this part of the day."""
        if self is PartOfDay.MORNING:
            return clock < time(12, 0)
        if self is PartOfDay.AFTERNOON:
            return time(12, 0) <= clock < time(17, 0)
        return clock >= time(17, 0)


@dataclass(frozen=True)
class Slot:
    """A free start time with one practitioner, as aware UTC datetimes."""

    practitioner_id: str
    appointment_type_id: str
    starts_at: datetime
    ends_at: datetime


def occupied_interval(starts_at: datetime, duration_minutes: int, buffer: timedelta) -> Interval:
    """Return the time a booking claims: the appointment and the buffer after it."""
    return starts_at, starts_at + timedelta(minutes=duration_minutes) + buffer


def session_starts(
    clinic: Clinic, practitioner_id: str, day: date, duration_minutes: int
) -> Iterator[datetime]:
    """Yield the UTC slot starts on a practitioner's grid for one local date.

    Each session is walked in UTC from its first instant in steps of the
    slot interval while the appointment still ends by the session's end.
    On a day whose clocks change during the session, a slot is kept only
    if every 5-minute cell of the appointment reads a wall-clock time
    inside the session. So a session ending at 02:00 on the April change
    ends the first time the clock reads 02:00.

    NOTE: after a change the UTC walk keeps the grid aligned to wall-clock
    times only when the slot interval divides the shift. That holds for
    whole-hour shifts, but not for Lord Howe Island's 30-minute shift with a
    20-minute interval.
    """
    zone = clinic.zone
    duration = timedelta(minutes=duration_minutes)
    interval = clinic.rules.slot_interval
    for session in clinic.sessions_on(practitioner_id, day):
        # A session that starts inside the October gap begins at its first
        # grid time that exists, so the grid keeps the written start's alignment.
        origin = datetime.combine(day, session.start)
        while not wall_time_exists(origin, zone):
            origin += interval
        start = local_to_utc(zone, day, origin.time(), Occurrence.FIRST)
        end = local_to_utc(zone, day, session.end, Occurrence.LAST)
        clocks_change = to_local(start, zone).utcoffset() != to_local(end, zone).utcoffset()
        moment = start
        while moment + duration <= end:
            if not clocks_change or _inside_wall_hours(moment, duration, day, session, zone):
                yield moment
            moment += interval


def _inside_wall_hours(
    starts_at: datetime, duration: timedelta, day: date, session: Session, zone: ZoneInfo
) -> bool:
    cell = timedelta(minutes=CELL_MINUTES)
    moment = starts_at
    while moment < starts_at + duration:
        wall = to_local(moment, zone)
        if wall.date() != day or not session.start <= wall.time() < session.end:
            return False
        moment += cell
    return True


def find_slots(
    clinic: Clinic,
    *,
    appointment_type_id: str,
    now: datetime,
    practitioner_id: str | None = None,
    from_date: date | None = None,
    part_of_day: PartOfDay | None = None,
    from_time: time | None = None,
    to_date: date | None = None,
    limit: int = 5,
    busy: BusyLookup | None = None,
) -> list[Slot]:
    """Return up to `limit` free slots, nearest first, with ties in practitioner order.

    `from_date` and `from_time` set the local start point (default: now);
    `from_time` applies to the first day only. `part_of_day` keeps slots of
    that part of every day. `to_date` is the last local date searched; the
    horizon and the minimum notice always apply. `busy` returns the
    intervals already occupied; without it every slot counts as free.
    """
    appointment_type = clinic.appointment_type(appointment_type_id)
    practitioner_ids = _offering(clinic, appointment_type, practitioner_id)
    zone = clinic.zone
    earliest = now + clinic.rules.minimum_notice
    today = local_date(now, zone)
    last_day = today + timedelta(days=clinic.rules.horizon_days)
    if to_date is not None:
        last_day = min(last_day, to_date)
    first_day = max(from_date or today, today)
    if from_time is not None:
        earliest = max(earliest, local_to_utc(zone, first_day, from_time))

    rank = {pid: index for index, pid in enumerate(practitioner_ids)}
    busy_cache = _BusyCache(busy, clinic)
    buffer = clinic.rules.buffer
    found: list[Slot] = []
    day = first_day
    while day <= last_day and len(found) < limit:
        day_slots: list[Slot] = []
        for pid in practitioner_ids:
            for starts_at in session_starts(clinic, pid, day, appointment_type.duration_minutes):
                if starts_at < earliest:
                    continue
                if part_of_day is not None and not part_of_day.contains(to_local(starts_at, zone).time()):
                    continue
                claim = occupied_interval(starts_at, appointment_type.duration_minutes, buffer)
                if busy_cache.overlaps(pid, day, claim):
                    continue
                ends_at = starts_at + timedelta(minutes=appointment_type.duration_minutes)
                day_slots.append(Slot(pid, appointment_type.id, starts_at, ends_at))
        day_slots.sort(key=lambda slot: (slot.starts_at, rank[slot.practitioner_id]))
        found.extend(day_slots)
        day += timedelta(days=1)
    return found[:limit]


def check_bookable(
    clinic: Clinic,
    *,
    appointment_type_id: str,
    practitioner_id: str,
    starts_at: datetime,
    now: datetime,
    enforce_notice: bool = True,
) -> Slot:
    """Return the slot at `starts_at` if the rules allow it, else raise the matching error.

    Checks run in a fixed order: appointment type, practitioner, past,
    minimum notice (skipped when `enforce_notice` is false, for staff),
    horizon, and working hours with the slot grid. Whether the time is
    free is the database's job, not this function's.
    """
    appointment_type = clinic.appointment_type(appointment_type_id)
    practitioner = clinic.practitioner(practitioner_id)
    if practitioner.id not in appointment_type.practitioner_ids:
        raise UnknownAppointmentType(appointment_type.id, practitioner.id)
    if starts_at.tzinfo is None:
        raise ValueError("check_bookable needs an aware starts_at")
    starts_at = starts_at.astimezone(UTC)
    zone = clinic.zone
    when = format_local(starts_at, zone)

    if starts_at <= now:
        raise InThePast(f"{when} has already passed; choose a later time")
    if enforce_notice and starts_at < now + clinic.rules.minimum_notice:
        raise TooSoon(
            f"{when} is too soon: bookings need {clinic.rules.minimum_notice_minutes} "
            "minutes' notice; choose a later time or call the clinic"
        )
    day = local_date(starts_at, zone)
    last_day = local_date(now, zone) + timedelta(days=clinic.rules.horizon_days)
    if day > last_day:
        raise BeyondHorizon(
            f"{when} is too far ahead: bookings open {clinic.rules.horizon_days} days "
            "ahead; choose an earlier date"
        )
    if starts_at not in set(session_starts(clinic, practitioner.id, day, appointment_type.duration_minutes)):
        raise OutsideWorkingHours(
            f"{when} is not a start time in the working hours of practitioner {practitioner.id}; "
            "choose one of the offered times"
        )
    ends_at = starts_at + timedelta(minutes=appointment_type.duration_minutes)
    return Slot(practitioner.id, appointment_type.id, starts_at, ends_at)


def _offering(clinic: Clinic, appointment_type: AppointmentType, practitioner_id: str | None) -> list[str]:
    if practitioner_id is None:
        return [p.id for p in clinic.practitioners if p.id in appointment_type.practitioner_ids]
    practitioner = clinic.practitioner(practitioner_id)
    if practitioner.id not in appointment_type.practitioner_ids:
        raise UnknownAppointmentType(appointment_type.id, practitioner.id)
    return [practitioner.id]


class _BusyCache:
    """Occupied intervals fetched in growing windows of local days, merged per practitioner."""

    def __init__(self, lookup: BusyLookup | None, clinic: Clinic) -> None:
        self._lookup = lookup
        self._clinic = clinic
        self._window_days = 1
        self._fetched_until: date | None = None
        self._starts: dict[str, list[datetime]] = {}
        self._ends: dict[str, list[datetime]] = {}

    def overlaps(self, practitioner_id: str, day: date, claim: Interval) -> bool:
        if self._lookup is None:
            return False
        if self._fetched_until is None or day >= self._fetched_until:
            self._fetch(day)
        starts = self._starts.get(practitioner_id, [])
        ends = self._ends.get(practitioner_id, [])
        # Merged intervals are disjoint and sorted, so their ends are sorted
        # too: the first one ending after the claim starts is the only candidate.
        index = bisect.bisect_right(ends, claim[0])
        return index < len(starts) and starts[index] < claim[1]

    def _fetch(self, day: date) -> None:
        assert self._lookup is not None
        zone = self._clinic.zone
        until = day + timedelta(days=self._window_days)
        self._window_days = min(2 * self._window_days, _MAX_BUSY_WINDOW_DAYS)
        # Sessions end by midnight, so a claim starting in the window ends at
        # most one buffer after the window's last midnight.
        window = (day_start_utc(zone, day), day_start_utc(zone, until) + self._clinic.rules.buffer)
        self._starts.clear()
        self._ends.clear()
        for practitioner_id, intervals in self._lookup(*window).items():
            merged = _merge(intervals)
            self._starts[practitioner_id] = [start for start, _ in merged]
            self._ends[practitioner_id] = [end for _, end in merged]
        self._fetched_until = until


def _merge(intervals: Sequence[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
