"""A practitioner away for the rest of a working session: cancel what cannot be seen, and notify patients.

The absence reaches every remaining booking of the session that is
scheduled from the given time on, and every earlier one that the projection
already places at or after it. Bookings still waiting are cancelled through
the booking core, and each patient gets one ``session_cancelled`` notice that
offers the next free time. A patient already checked in is in the waiting
room; the booking core does not cancel an arrived booking, so those are
reported for reception to speak to in person.

The rest of the session is then closed for new bookings by a date override
recorded as changed by staff. Slot search does not offer the freed time
again, and a later import of the clinic file keeps the override.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy.orm import Session as DbSession

from booking import service
from booking.availability import Slot
from booking.clinic import Clinic
from booking.clinic import Session as ClinicSession
from booking.late import DayRecompute, DeclarationError, check_declaration_date, recompute_day
from booking.late_notices import replace_cancel_notice
from booking.late_store import add_declaration, load_practitioner_day, lock_practitioner, practitioner_by_slug
from booking.localtime import Occurrence, local_to_utc
from booking.projection import AwayReach, Phase, project_day, reach_of_away
from booking.store import add_staff_override, lock_clinic_for_change
from booking.views import BookingView
from storage.audit import record_audit
from storage.models.bookings import BookingRow

logger = logging.getLogger(__name__)

# Free slots fetched per cancelled booking, so that those inside the
# absence itself can be skipped.
_SLOT_CANDIDATES = 12

# The reason shown by `sealbook-admin hours` for the day's shortened hours.
AWAY_REASON = "away"


@dataclass(frozen=True)
class AwayWindow:
    """The stretch of a working session a practitioner is away for, as UTC instants."""

    from_at: datetime
    until_at: datetime


@dataclass(frozen=True)
class AwayPreview:
    """Preview of an absence before anything is written: the window and the bookings it reaches."""

    window: AwayWindow
    reach: AwayReach

    @property
    def to_cancel(self) -> tuple[str, ...]:
        """References of the waiting bookings that would be cancelled."""
        return tuple(item.reference for item in self.reach.all if item.phase is Phase.WAITING)

    @property
    def in_waiting_room(self) -> tuple[str, ...]:
        """References of checked-in bookings that would be left for reception."""
        return tuple(item.reference for item in self.reach.all if item.phase is Phase.CHECKED_IN)


@dataclass(frozen=True)
class AwayOutcome:
    """Result of an absence: bookings cancelled, patients left for reception, and the recomputed day."""

    window: AwayWindow
    cancelled: tuple[str, ...]
    in_waiting_room: tuple[str, ...]
    recompute: DayRecompute


def away_window(clinic: Clinic, practitioner_id: str, local_date: date, from_time: time) -> AwayWindow:
    """Return the absence from ``from_time`` to the end of the session it falls in.

    A time between two sessions (in a lunch break, say) reaches the next
    session. Raises `DeclarationError` when no session is left that day.
    """
    for working in clinic.sessions_on(practitioner_id, local_date):
        if from_time < working.end:
            return AwayWindow(
                from_at=local_to_utc(clinic.zone, local_date, from_time),
                until_at=local_to_utc(clinic.zone, local_date, working.end, Occurrence.LAST),
            )
    raise DeclarationError(
        f"practitioner {practitioner_id!r} has no working session at or after {from_time:%H:%M} "
        f"on {local_date.isoformat()}; check the time and date"
    )


def sessions_before_absence(
    sessions: tuple[ClinicSession, ...], from_time: time
) -> tuple[ClinicSession, ...]:
    """Return a day's sessions with the absence from ``from_time`` to the end of its session taken out.

    The absence covers the session that ends after ``from_time`` from that
    time on (the whole of it when ``from_time`` falls before it, for example
    in a lunch break). Sessions before and after it stay as they are.
    """
    remaining: list[ClinicSession] = []
    absence_placed = False
    for working in sessions:
        if working.end <= from_time or absence_placed:
            remaining.append(working)
            continue
        absence_placed = True
        if working.start < from_time:
            remaining.append(ClinicSession(working.start, from_time))
    return tuple(remaining)


def preview_away(
    session: DbSession,
    clinic: Clinic,
    *,
    practitioner_id: str,
    from_time: time,
    local_date: date,
    now: datetime,
) -> AwayPreview:
    """Return the bookings an absence would reach, without writing anything."""
    check_declaration_date(clinic, local_date, now)
    practitioner = practitioner_by_slug(session, practitioner_id)
    window = away_window(clinic, practitioner.slug, local_date, from_time)
    day = load_practitioner_day(session, practitioner, local_date, clinic.zone)
    projection = project_day(day.day_bookings(), now, day.declared_delay_minutes)
    return AwayPreview(window, reach_of_away(projection, window.from_at, window.until_at))


def declare_away(
    session: DbSession,
    clinic: Clinic,
    *,
    practitioner_id: str,
    from_time: time,
    local_date: date,
    now: datetime,
    actor: str,
) -> AwayOutcome:
    """Record a practitioner away from ``from_time`` for the rest of that session, and act on it."""
    practitioner = practitioner_by_slug(session, practitioner_id)
    lock_practitioner(session, practitioner.id)
    # Locked before the preview, so that a booking still open in the absence
    # commits first and is cancelled with the others, and a later booking
    # reads the shortened hours. Locked before the cancels too, because they
    # take the audit lock (see `lock_clinic_for_change`).
    lock_clinic_for_change(session)
    preview = preview_away(
        session,
        clinic,
        practitioner_id=practitioner.slug,
        from_time=from_time,
        local_date=local_date,
        now=now,
    )
    day = load_practitioner_day(session, practitioner, local_date, clinic.zone)

    cancelled: list[str] = []
    for reference in preview.to_cancel:
        view = service.cancel(session, clinic, reference=reference, contact_id=None, now=now, actor=actor)
        _notify_cancelled(session, clinic, day.row(view.id), view, preview, now)
        cancelled.append(view.reference)

    add_declaration(
        session,
        practitioner_row_id=practitioner.id,
        local_date=local_date,
        kind="away",
        away_from_at=preview.window.from_at,
        now=now,
        actor=actor,
    )
    add_staff_override(
        session,
        practitioner_id=practitioner.slug,
        day=local_date,
        sessions=sessions_before_absence(clinic.sessions_on(practitioner.slug, local_date), from_time),
        reason=AWAY_REASON,
    )
    record_audit(
        session,
        at=now,
        actor=actor,
        action="declare_away",
        reference=None,
        outcome="ok",
        detail=f"practitioner={practitioner.slug} date={local_date.isoformat()} from={from_time:%H:%M} "
        f"cancelled={len(cancelled)} in_waiting_room={len(preview.in_waiting_room)}",
    )
    recompute = recompute_day(session, clinic, practitioner, local_date, now)
    logger.info(
        "practitioner %s away from %s on %s: %d bookings cancelled",
        practitioner.slug,
        f"{from_time:%H:%M}",
        local_date.isoformat(),
        len(cancelled),
    )
    return AwayOutcome(preview.window, tuple(cancelled), preview.in_waiting_room, recompute)


def _notify_cancelled(
    session: DbSession,
    clinic: Clinic,
    row: BookingRow,
    view: BookingView,
    preview: AwayPreview,
    now: datetime,
) -> None:
    slot = _next_free_slot(session, clinic, view, preview.window, now)
    replace_cancel_notice(
        session,
        clinic,
        row,
        practitioner_name=view.practitioner_name,
        type_name=view.appointment_type_name,
        away_from_at=preview.window.from_at,
        next_free=slot,
        next_free_practitioner_name=clinic.practitioner(slot.practitioner_id).display_name if slot else None,
        now=now,
    )


def _next_free_slot(
    session: DbSession, clinic: Clinic, view: BookingView, window: AwayWindow, now: datetime
) -> Slot | None:
    """Return the soonest free slot of the same type with anyone, outside the absence itself.

    The cancelled bookings' time is free again, so slots inside the absence
    are skipped. None when no slot is free within the first few found.
    """
    candidates = service.find_slots(
        session, clinic, appointment_type_id=view.appointment_type_id, now=now, limit=_SLOT_CANDIDATES
    )
    for slot in candidates:
        inside = window.from_at <= slot.starts_at < window.until_at
        if not (inside and slot.practitioner_id == view.practitioner_id):
            return slot
    return None
