"""Projection of one practitioner's day: when each remaining booking is expected to start.

The projection is a pure function of the day's bookings, the declared delay
and the current instant, so it can be recomputed on every event and on every
tick, and replayed in tests with a fixed clock. All instants are aware UTC
datetimes; delays are whole minutes, rounded down.

Rules:

* The practitioner is free now, or at the projected end of the consult in
  progress: its start plus the booking's duration, or now if it has already
  run over. A finished consult frees the practitioner at its finish time.
* Remaining bookings (booked or checked in, not yet started) keep their
  scheduled order. Each one starts at the later of its scheduled start and the
  projected end of the one before it.
* A declared delay is a floor: no remaining booking is projected to start
  earlier than its scheduled start plus the declared minutes.
* Cancelled and no-show bookings take no time. A checked-in patient still
  waits for their turn in the sequence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# FHIR Appointment statuses that the booking core stores.
STATUS_BOOKED = "booked"
STATUS_ARRIVED = "arrived"
STATUS_FULFILLED = "fulfilled"
STATUS_CANCELLED = "cancelled"
STATUS_NOSHOW = "noshow"


class Phase(StrEnum):
    """State of a booking within the day, derived from its status and timestamps."""

    WAITING = "waiting"  # booked, patient not checked in
    CHECKED_IN = "checked_in"  # patient in the waiting room
    IN_PROGRESS = "in_progress"  # consult started, not finished
    FINISHED = "finished"
    GONE = "gone"  # cancelled or no-show: takes no time


REMAINING_PHASES = frozenset({Phase.WAITING, Phase.CHECKED_IN})


@dataclass(frozen=True, slots=True)
class DayBooking:
    """One booking of the day as the projection needs it; instants are aware UTC."""

    booking_id: int
    reference: str
    starts_at: datetime
    duration: timedelta
    status: str
    checked_in_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def phase(self) -> Phase:
        """The booking's phase; see `day_phase`."""
        return day_phase(self.status, self.checked_in_at, self.started_at, self.finished_at)


def day_phase(
    status: str, checked_in_at: datetime | None, started_at: datetime | None, finished_at: datetime | None
) -> Phase:
    """Return a booking's phase; a recorded timestamp wins over a status that lags behind it."""
    if status in (STATUS_CANCELLED, STATUS_NOSHOW):
        return Phase.GONE
    if finished_at is not None or status == STATUS_FULFILLED:
        return Phase.FINISHED
    if started_at is not None:
        return Phase.IN_PROGRESS
    if checked_in_at is not None or status == STATUS_ARRIVED:
        return Phase.CHECKED_IN
    return Phase.WAITING


@dataclass(frozen=True, slots=True)
class ProjectedBooking:
    """A remaining booking with its expected start."""

    booking_id: int
    reference: str
    scheduled_at: datetime
    expected_at: datetime
    delay_minutes: int
    phase: Phase


@dataclass(frozen=True, slots=True)
class DayProjection:
    """The projection of one practitioner's day at the instant ``now``."""

    now: datetime
    free_at: datetime
    in_progress_reference: str | None
    declared_delay_minutes: int | None
    bookings: tuple[ProjectedBooking, ...]

    @property
    def current_delay_minutes(self) -> int:
        """The delay of the next remaining booking, or 0 when none remains."""
        return self.bookings[0].delay_minutes if self.bookings else 0

    def find(self, booking_id: int) -> ProjectedBooking | None:
        """Return the projection of one remaining booking, or None if it is not remaining."""
        for projected in self.bookings:
            if projected.booking_id == booking_id:
                return projected
        return None


def project_day(
    bookings: Iterable[DayBooking], now: datetime, declared_delay_minutes: int | None = None
) -> DayProjection:
    """Project the expected start of every remaining booking of one practitioner's day.

    NOTE: a booking whose start has passed with no check-in, and that staff
    have not marked as a no-show, still counts as waiting. It is projected
    at the head of the queue and delays everyone after it until staff record
    the no-show.
    """
    if now.tzinfo is None:
        raise ValueError("project_day needs an aware instant for now")
    if declared_delay_minutes is not None and declared_delay_minutes < 0:
        raise ValueError("a declared delay cannot be negative")
    day = sorted(bookings, key=lambda booking: (booking.starts_at, booking.reference))

    free_at, in_progress = _practitioner_free_at(day, now)
    floor = timedelta(minutes=declared_delay_minutes or 0)

    projected: list[ProjectedBooking] = []
    previous_end = free_at
    for booking in day:
        phase = booking.phase
        if phase not in REMAINING_PHASES:
            continue
        expected_at = max(booking.starts_at, previous_end, booking.starts_at + floor)
        previous_end = expected_at + booking.duration
        projected.append(
            ProjectedBooking(
                booking_id=booking.booking_id,
                reference=booking.reference,
                scheduled_at=booking.starts_at,
                expected_at=expected_at,
                delay_minutes=delay_minutes(booking.starts_at, expected_at),
                phase=phase,
            )
        )

    return DayProjection(
        now=now,
        free_at=free_at,
        in_progress_reference=in_progress.reference if in_progress is not None else None,
        declared_delay_minutes=declared_delay_minutes,
        bookings=tuple(projected),
    )


def delay_minutes(scheduled_at: datetime, expected_at: datetime) -> int:
    """Return how many whole minutes ``expected_at`` is after ``scheduled_at``; never negative."""
    seconds = (expected_at - scheduled_at).total_seconds()
    return max(0, int(seconds // 60))


def _practitioner_free_at(day: list[DayBooking], now: datetime) -> tuple[datetime, DayBooking | None]:
    """Return when the practitioner is next free, and the consult in progress if there is one.

    Two consults in progress at once means that a finish was not recorded.
    The later projected end wins, so the projection errs towards notifying
    patients rather than leaving them to wait in silence.
    """
    free_at = now
    in_progress: DayBooking | None = None
    latest_start: datetime | None = None
    for booking in day:
        phase = booking.phase
        if phase is Phase.FINISHED and booking.finished_at is not None:
            free_at = max(free_at, booking.finished_at)
        elif phase is Phase.IN_PROGRESS and booking.started_at is not None:
            free_at = max(free_at, booking.started_at + booking.duration)
            if latest_start is None or booking.started_at > latest_start:
                in_progress, latest_start = booking, booking.started_at
    return free_at, in_progress


@dataclass(frozen=True, slots=True)
class AwayReach:
    """Remaining bookings that a practitioner's absence from ``from_at`` reaches."""

    scheduled_after: tuple[ProjectedBooking, ...]
    projected_after: tuple[ProjectedBooking, ...]

    @property
    def all(self) -> tuple[ProjectedBooking, ...]:
        """Every booking reached, in scheduled order."""
        return tuple(sorted(self.scheduled_after + self.projected_after, key=lambda item: item.scheduled_at))


def reach_of_away(
    projection: DayProjection, from_at: datetime, until_at: datetime | None = None
) -> AwayReach:
    """Select the remaining bookings that cannot be seen if the practitioner leaves at ``from_at``.

    A booking is reached when it is scheduled at or after ``from_at``, or when
    it is scheduled earlier but projected to start at or after ``from_at``.
    ``until_at`` (the end of the working session, exclusive) leaves later
    sessions of the day untouched.
    """
    scheduled_after: list[ProjectedBooking] = []
    projected_after: list[ProjectedBooking] = []
    for projected in projection.bookings:
        if until_at is not None and projected.scheduled_at >= until_at:
            continue
        if projected.scheduled_at >= from_at:
            scheduled_after.append(projected)
        elif projected.expected_at >= from_at:
            projected_after.append(projected)
    return AwayReach(tuple(scheduled_after), tuple(projected_after))
