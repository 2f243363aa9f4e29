"""Read-only views of the live projection, for the staff tool, the patient's STATUS and the board.

Nothing here writes, so these work in any session. Each booking view pairs
the booking core's `BookingView` with its expected start: projected for a
booking still to be seen, the actual start for one in consult or finished,
and none for a cancelled or no-show booking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session as DbSession

from booking.late_store import (
    clinic_zone,
    load_practitioner_day,
    practitioner_by_slug,
    practitioners_with_bookings,
)
from booking.localtime import local_date as local_date_of
from booking.projection import DayProjection, Phase, day_phase, delay_minutes, project_day
from booking.views import BookingView, bookings_for_contact, day_bookings


@dataclass(frozen=True)
class ProjectedView:
    """A booking with its expected start and delay in whole minutes, where it has one."""

    booking: BookingView
    phase: Phase
    expected_at: datetime | None
    delay_minutes: int | None

    @property
    def reference(self) -> str:
        """The booking's reference, such as K7QM-4X2P."""
        return self.booking.reference

    @property
    def starts_at(self) -> datetime:
        """The booking's scheduled start."""
        return self.booking.starts_at


@dataclass(frozen=True)
class PractitionerProjection:
    """One practitioner's projected day, with the name patients know them by."""

    practitioner_id: str
    practitioner_name: str
    projection: DayProjection


def projected_day(
    session: DbSession, local_date: date, practitioner_id: str | None = None, *, now: datetime
) -> list[ProjectedView]:
    """Return the day's bookings (cancelled ones left out) with their projection at ``now``.

    The order is that of `booking.views.day_bookings`: by start time, then
    practitioner. ``practitioner_id`` is a slug and keeps one practitioner's.
    """
    views = day_bookings(session, local_date, practitioner_id)
    projections = _projections(session, local_date, {view.practitioner_id for view in views}, now)
    return [_projected(view, projections[view.practitioner_id]) for view in views]


def contact_bookings_today(session: DbSession, contact_id: int, now: datetime) -> list[ProjectedView]:
    """Return a contact's active bookings that start today in the clinic's zone, with their projection.

    The STATUS reply reads this: for each of the patient's bookings today,
    the expected start and the delay.
    """
    zone = clinic_zone(session)
    today = local_date_of(now, zone)
    views = [
        view
        for view in bookings_for_contact(session, contact_id, now)
        if local_date_of(view.starts_at, zone) == today
    ]
    projections = _projections(session, today, {view.practitioner_id for view in views}, now)
    return [_projected(view, projections[view.practitioner_id]) for view in views]


def practitioner_projections(
    session: DbSession, local_date: date, now: datetime
) -> list[PractitionerProjection]:
    """Return the projected day of every practitioner with bookings on a local date, in clinic order."""
    zone = clinic_zone(session)
    result: list[PractitionerProjection] = []
    for practitioner in practitioners_with_bookings(session, local_date, zone):
        day = load_practitioner_day(session, practitioner, local_date, zone)
        projection = project_day(day.day_bookings(), now, day.declared_delay_minutes)
        result.append(PractitionerProjection(practitioner.slug, practitioner.display_name, projection))
    return result


def _projections(
    session: DbSession, local_date: date, practitioner_ids: set[str], now: datetime
) -> dict[str, DayProjection]:
    zone = clinic_zone(session)
    projections: dict[str, DayProjection] = {}
    for practitioner_id in sorted(practitioner_ids):
        practitioner = practitioner_by_slug(session, practitioner_id)
        day = load_practitioner_day(session, practitioner, local_date, zone)
        projections[practitioner_id] = project_day(day.day_bookings(), now, day.declared_delay_minutes)
    return projections


def _projected(view: BookingView, projection: DayProjection) -> ProjectedView:
    phase = day_phase(
        view.status.value, view.checked_in_at, view.consult_started_at, view.consult_finished_at
    )
    projected = projection.find(view.id)
    if projected is not None:
        return ProjectedView(view, phase, projected.expected_at, projected.delay_minutes)
    if view.consult_started_at is not None:
        started = view.consult_started_at
        return ProjectedView(view, phase, started, delay_minutes(view.starts_at, started))
    return ProjectedView(view, phase, None, None)
