"""The clinic as the booking core sees it: zone, practitioners, types, hours and rules.

A `Clinic` is an immutable value. The clinic-file parser builds one, the
service stores it and loads it back, and the availability engine reads it.
Working hours are local wall-clock times in the clinic's IANA zone; the
engine turns them into UTC instants date by date, so a weekly session keeps
its local start time across daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from booking.errors import UnknownAppointmentType, UnknownPractitioner
from booking.profiles import Profile, Vocabulary
from booking.rules import BookingRules, DialogueRules, ReminderRules, RunningLateRules

DEFAULT_TIME_ZONE = "Australia/Sydney"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, order=True)
class Session:
    """A stretch of working time on one local day, from `start` to `end` (exclusive)."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class OverrideKind(StrEnum):
    """How a date override changes the weekly sessions of that date."""

    CLOSED = "closed"  # no sessions: leave, a public holiday
    REPLACE = "replace"  # these sessions instead of the weekly ones
    EXTRA = "extra"  # these sessions as well as the weekly ones


@dataclass(frozen=True)
class DateOverride:
    """A change to the working hours of one local date.

    `practitioner_id` None applies the override to every practitioner, as
    for a public holiday.
    """

    day: date
    kind: OverrideKind
    sessions: tuple[Session, ...] = ()
    practitioner_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Practitioner:
    """A person patients book with; `id` is a stable slug such as `lee`."""

    id: str
    display_name: str
    # Seven entries, Monday first (the index is `date.weekday()`).
    weekly_sessions: tuple[tuple[Session, ...], ...]


@dataclass(frozen=True)
class AppointmentType:
    """A kind of appointment with its length and the practitioners who offer it."""

    id: str
    name: str
    duration_minutes: int
    practitioner_ids: tuple[str, ...]


@dataclass(frozen=True)
class Clinic:
    """One clinic with its effective rules (the profile's defaults plus its overrides)."""

    name: str
    phone: str
    time_zone: str
    profile: Profile
    rules: BookingRules
    running_late: RunningLateRules
    reminders: ReminderRules
    dialogue: DialogueRules
    practitioners: tuple[Practitioner, ...]
    appointment_types: tuple[AppointmentType, ...]
    overrides: tuple[DateOverride, ...] = ()
    # The stored set-up's revision this value was loaded at (`booking.store.load_clinic`);
    # 0 for a clinic parsed from a file and not loaded back.
    revision: int = field(default=0, compare=False)
    _overrides_by_day: dict[date, list[DateOverride]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_day: dict[date, list[DateOverride]] = {}
        for override in self.overrides:
            by_day.setdefault(override.day, []).append(override)
        object.__setattr__(self, "_overrides_by_day", by_day)

    @property
    def zone(self) -> ZoneInfo:
        """The clinic's IANA time zone."""
        return ZoneInfo(self.time_zone)

    @property
    def vocabulary(self) -> Vocabulary:
        """The profile's words for practitioner, appointment and patient."""
        return self.profile.vocabulary

    def practitioner(self, practitioner_id: str) -> Practitioner:
        """Return the practitioner with this id, or raise `UnknownPractitioner`."""
        for practitioner in self.practitioners:
            if practitioner.id == practitioner_id:
                return practitioner
        raise UnknownPractitioner(practitioner_id)

    def appointment_type(self, appointment_type_id: str) -> AppointmentType:
        """Return the appointment type with this id, or raise `UnknownAppointmentType`."""
        for appointment_type in self.appointment_types:
            if appointment_type.id == appointment_type_id:
                return appointment_type
        raise UnknownAppointmentType(appointment_type_id)

    def sessions_on(self, practitioner_id: str, day: date) -> tuple[Session, ...]:
        """Return a practitioner's working sessions on a local date, sorted.

        Clinic-wide overrides apply first and the practitioner's own after,
        each group in file order, so a practitioner's extra session on a
        public holiday still counts.
        """
        sessions = list(self.practitioner(practitioner_id).weekly_sessions[day.weekday()])
        overrides = self._overrides_by_day.get(day, [])
        ordered = [o for o in overrides if o.practitioner_id is None] + [
            o for o in overrides if o.practitioner_id == practitioner_id
        ]
        for override in ordered:
            if override.kind is OverrideKind.CLOSED:
                sessions = []
            elif override.kind is OverrideKind.REPLACE:
                sessions = list(override.sessions)
            else:
                sessions.extend(override.sessions)
        return _merge_sessions(sessions)


def _merge_sessions(sessions: list[Session]) -> tuple[Session, ...]:
    """Sort sessions and join any that overlap, so no time is offered twice."""
    merged: list[Session] = []
    for session in sorted(sessions):
        if merged and session.start < merged[-1].end:
            last = merged.pop()
            session = Session(last.start, max(last.end, session.end))
        merged.append(session)
    return tuple(merged)
