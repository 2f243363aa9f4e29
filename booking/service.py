"""Slot search and book, move and cancel against the database, never double-booking.

Every function takes the caller's session and works inside the caller's
transaction; the caller commits. Each change checks its rules first,
then writes its rows and time cells inside a savepoint, then adds its
outbox notices and audit entry. A rule broken, or a time claimed by a
concurrent transaction, raises a `booking.errors` error with nothing
written, and the caller's transaction stays usable.

Move and cancel lock the booking's row before they read its status (see
`booking.claims.lock_booking`), so concurrent changes to one booking
apply one after the other, each to the row the one before committed.

Book and move check working hours against the clinic's committed set-up,
not only against the `Clinic` the caller passes: when staff have changed
the set-up since the caller loaded it (leave, an absence, an import), they
load it again first (`booking.store.committed_clinic`). Before anything
else they take a share lock on the clinic row, so on PostgreSQL a change
to the set-up and a booking on the time it closes run one after the other.

Patient and staff paths differ in these rules only. A patient
(`contact_id` given) acts only on their own bookings, within the move and
cancel cut-offs and the minimum notice. Staff (`contact_id=None`, actor
`staff:NAME` or `system`) act on any booking at any time.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from booking import availability
from booking.availability import PartOfDay, Slot, check_bookable
from booking.claims import busy_lookup, claim_cells, lock_booking, release_cells
from booking.clinic import Clinic
from booking.errors import (
    BookingNotFound,
    InvalidTransition,
    NotYourBooking,
    PastCutOff,
    UnknownAppointmentType,
    UnknownContact,
    UnknownPractitioner,
)
from booking.localtime import wall_clock_before
from booking.notices import (
    booking_params,
    check_actor,
    is_staff,
    record_booked,
    record_cancelled,
    record_moved,
)
from booking.references import new_reference, parse_reference
from booking.status import BookingStatus, status_words
from booking.store import committed_clinic
from booking.taken import claim_or_raise_taken
from booking.views import BookingView, view_from_rows, view_of
from storage.models.bookings import BookingRow
from storage.models.clinic import AppointmentTypeRow, PractitionerRow
from storage.models.contacts import Contact

logger = logging.getLogger(__name__)


def find_slots(
    session: DbSession,
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
    moving_reference: str | None = None,
    contact_id: int | None = None,
) -> list[Slot]:
    """Return up to `limit` free slots, nearest first, leaving out time that bookings hold.

    The search parameters are those of `booking.availability.find_slots`.
    `moving_reference` names a booking being moved, whose own time counts
    as free. A patient caller passes their `contact_id`, and a booking of
    another contact then raises `BookingNotFound`, exactly as a missing one
    does; staff pass None.
    """
    ignore = None
    if moving_reference is not None:
        row = _row_by_reference(session, moving_reference)
        if contact_id is not None and row.contact_id != contact_id:
            raise BookingNotFound(row.reference)
        ignore = row.id
    return availability.find_slots(
        clinic,
        appointment_type_id=appointment_type_id,
        now=now,
        practitioner_id=practitioner_id,
        from_date=from_date,
        part_of_day=part_of_day,
        from_time=from_time,
        to_date=to_date,
        limit=limit,
        busy=busy_lookup(session, ignore_booking_id=ignore),
    )


def book(
    session: DbSession,
    clinic: Clinic,
    *,
    contact_id: int,
    appointment_type_id: str,
    practitioner_id: str,
    starts_at: datetime,
    now: datetime,
    actor: str,
) -> BookingView:
    """Book a slot for a contact and return the new booking.

    Raises `UnknownContact`, `UnknownPractitioner`, `UnknownAppointmentType`,
    `InThePast`, `TooSoon` (not for staff), `BeyondHorizon`,
    `OutsideWorkingHours`, or `SlotTaken` with the nearest free slots when
    the time is already held.
    """
    check_actor(actor)
    clinic = committed_clinic(session, clinic)
    if session.scalar(select(Contact.id).where(Contact.id == contact_id)) is None:
        raise UnknownContact(contact_id)
    slot = check_bookable(
        clinic,
        appointment_type_id=appointment_type_id,
        practitioner_id=practitioner_id,
        starts_at=starts_at,
        now=now,
        enforce_notice=not is_staff(actor),
    )
    practitioner_row = _practitioner_row(session, slot.practitioner_id)
    type_row = _type_row(session, slot.appointment_type_id)
    occupied_until = slot.ends_at + clinic.rules.buffer

    row = BookingRow(
        reference=_unused_reference(session),
        contact_id=contact_id,
        practitioner_id=practitioner_row.id,
        appointment_type_id=type_row.id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        occupied_until=occupied_until,
        status=BookingStatus.BOOKED.value,
        created_at=now,
        updated_at=now,
        moves=0,
    )

    def write() -> None:
        session.add(row)
        session.flush()
        claim_cells(
            session,
            practitioner_row_id=practitioner_row.id,
            booking_id=row.id,
            starts_at=slot.starts_at,
            occupied_until=occupied_until,
        )

    claim_or_raise_taken(
        session,
        clinic,
        slot=slot,
        practitioner_row_id=practitioner_row.id,
        occupied_until=occupied_until,
        now=now,
        moving_booking_id=None,
        write=write,
    )

    params = booking_params(
        clinic, row, practitioner_name=practitioner_row.display_name, type_name=type_row.name, actor=actor
    )
    record_booked(session, clinic, row, params, now, actor)
    logger.info("booked %s with practitioner %s", row.reference, slot.practitioner_id)
    return view_from_rows(row, practitioner_row, type_row)


def move(
    session: DbSession,
    clinic: Clinic,
    *,
    reference: str,
    contact_id: int | None,
    starts_at: datetime,
    now: datetime,
    actor: str,
    practitioner_id: str | None = None,
) -> BookingView:
    """Move a booking that is still booked to a new start, and optionally practitioner.

    The reference stays the same.

    With `contact_id`, the patient path: the booking must be that contact's,
    and the move cut-off and minimum notice apply. With `contact_id=None`,
    the staff path, for a `staff:NAME` or `system` actor. Raises the errors
    of `book`, plus `BookingNotFound`, `NotYourBooking`, `InvalidTransition`
    and `PastCutOff`.
    """
    check_actor(actor)
    clinic = committed_clinic(session, clinic)
    row = _row_for_change(session, reference, contact_id, actor)
    _require_status(row, BookingStatus.BOOKED, "moved")
    if contact_id is not None:
        _check_cut_off(clinic, row, clinic.rules.move_cutoff_hours, "moved", now)
    current_practitioner = session.get_one(PractitionerRow, row.practitioner_id)
    type_row = session.get_one(AppointmentTypeRow, row.appointment_type_id)
    slot = check_bookable(
        clinic,
        appointment_type_id=type_row.slug,
        practitioner_id=practitioner_id or current_practitioner.slug,
        starts_at=starts_at,
        now=now,
        enforce_notice=contact_id is not None,
    )
    practitioner_row = _practitioner_row(session, slot.practitioner_id)
    if practitioner_row.id == row.practitioner_id and slot.starts_at == row.starts_at:
        return view_of(session, row.id)

    previous_starts_at = row.starts_at
    occupied_until = slot.ends_at + clinic.rules.buffer

    def write() -> None:
        release_cells(session, row.id)
        row.practitioner_id = practitioner_row.id
        row.starts_at = slot.starts_at
        row.ends_at = slot.ends_at
        row.occupied_until = occupied_until
        row.moves += 1
        row.updated_at = now
        session.flush()
        claim_cells(
            session,
            practitioner_row_id=practitioner_row.id,
            booking_id=row.id,
            starts_at=slot.starts_at,
            occupied_until=occupied_until,
        )

    claim_or_raise_taken(
        session,
        clinic,
        slot=slot,
        practitioner_row_id=practitioner_row.id,
        occupied_until=occupied_until,
        now=now,
        moving_booking_id=row.id,
        write=write,
    )

    params = booking_params(
        clinic, row, practitioner_name=practitioner_row.display_name, type_name=type_row.name, actor=actor
    )
    record_moved(session, clinic, row, params, previous_starts_at, now, actor)
    logger.info("moved %s", row.reference)
    return view_from_rows(row, practitioner_row, type_row)


def cancel(
    session: DbSession,
    clinic: Clinic,
    *,
    reference: str,
    contact_id: int | None,
    now: datetime,
    actor: str,
) -> BookingView:
    """Cancel a booking that is still booked, and free its time at once.

    Patient and staff paths as for `move`, with the cancel cut-off. Raises
    `BookingNotFound`, `NotYourBooking`, `InvalidTransition` or `PastCutOff`.
    """
    check_actor(actor)
    row = _row_for_change(session, reference, contact_id, actor)
    _require_status(row, BookingStatus.BOOKED, "cancelled")
    if contact_id is not None:
        _check_cut_off(clinic, row, clinic.rules.cancel_cutoff_hours, "cancelled", now)

    release_cells(session, row.id)
    row.status = BookingStatus.CANCELLED.value
    row.cancelled_at = now
    row.updated_at = now
    session.flush()

    view = view_of(session, row.id)
    params = booking_params(
        clinic,
        row,
        practitioner_name=view.practitioner_name,
        type_name=view.appointment_type_name,
        actor=actor,
    )
    record_cancelled(session, row, params, now, actor)
    logger.info("cancelled %s", row.reference)
    return view


def _row_by_reference(session: DbSession, reference: str) -> BookingRow:
    canonical = parse_reference(reference)
    row = session.scalars(select(BookingRow).where(BookingRow.reference == canonical)).first()
    if row is None:
        raise BookingNotFound(canonical)
    return row


def _row_for_change(session: DbSession, reference: str, contact_id: int | None, actor: str) -> BookingRow:
    if contact_id is None and not is_staff(actor):
        raise ValueError("only a staff:NAME or system actor may change a booking without contact_id")
    row = lock_booking(session, reference)
    if contact_id is not None and row.contact_id != contact_id:
        raise NotYourBooking(row.reference)
    return row


def _require_status(row: BookingRow, expected: BookingStatus, action: str) -> None:
    if row.status != expected.value:
        raise InvalidTransition(row.reference, status_words(row.status, row.consult_started_at), action)


def _check_cut_off(clinic: Clinic, row: BookingRow, hours: int, action: str, now: datetime) -> None:
    """Raise `PastCutOff` once `now` reaches the cut-off, counted in local wall-clock hours."""
    cut_off = wall_clock_before(row.starts_at, clinic.zone, timedelta(hours=hours))
    if now >= cut_off:
        raise PastCutOff(action, row.reference, clinic.phone)


def _practitioner_row(session: DbSession, slug: str) -> PractitionerRow:
    row = session.scalars(
        select(PractitionerRow).where(PractitionerRow.slug == slug, PractitionerRow.active.is_(True))
    ).first()
    if row is None:
        raise UnknownPractitioner(slug)
    return row


def _type_row(session: DbSession, slug: str) -> AppointmentTypeRow:
    row = session.scalars(
        select(AppointmentTypeRow).where(AppointmentTypeRow.slug == slug, AppointmentTypeRow.active.is_(True))
    ).first()
    if row is None:
        raise UnknownAppointmentType(slug)
    return row


def _unused_reference(session: DbSession) -> str:
    while True:
        reference = new_reference()
        taken = session.scalar(select(BookingRow.id).where(BookingRow.reference == reference))
        if taken is None:
            return reference
