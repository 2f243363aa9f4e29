"""Read-only booking views and the queries that return them: by reference, by contact, by day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session as DbSession

from booking.errors import BookingNotFound, ClinicNotLoaded, UnknownPractitioner
from booking.localtime import day_start_utc
from booking.localtime import local_date as local_date_of
from booking.references import parse_reference
from booking.status import ACTIVE, BookingStatus
from storage.models.bookings import BookingRow
from storage.models.clinic import AppointmentTypeRow, ClinicRow, PractitionerRow


@dataclass(frozen=True)
class BookingView:
    """A booking as callers see it: slugs and names instead of row ids, times in UTC.

    `id` and `contact_id` are internal row ids, safe to log; the contact's
    details live elsewhere and never appear here.
    """

    id: int
    reference: str
    contact_id: int
    practitioner_id: str
    practitioner_name: str
    appointment_type_id: str
    appointment_type_name: str
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    checked_in_at: datetime | None
    consult_started_at: datetime | None
    consult_finished_at: datetime | None
    no_show_at: datetime | None
    moves: int

    @property
    def fhir_status(self) -> str:
        """The FHIR `Appointment.status` code of this booking."""
        return self.status.fhir

    def local_start(self, zone: ZoneInfo) -> datetime:
        """Return the start as an aware datetime in `zone`."""
        return self.starts_at.astimezone(zone)


_VIEW_QUERY = (
    select(
        BookingRow,
        PractitionerRow.slug,
        PractitionerRow.display_name,
        AppointmentTypeRow.slug,
        AppointmentTypeRow.name,
    )
    .join(PractitionerRow, PractitionerRow.id == BookingRow.practitioner_id)
    .join(AppointmentTypeRow, AppointmentTypeRow.id == BookingRow.appointment_type_id)
)


ViewFields = tuple[BookingRow, str, str, str, str]


def _to_view(fields: ViewFields) -> BookingView:
    row, practitioner, practitioner_name, type_slug, type_name = fields
    return BookingView(
        id=row.id,
        reference=row.reference,
        contact_id=row.contact_id,
        practitioner_id=practitioner,
        practitioner_name=practitioner_name,
        appointment_type_id=type_slug,
        appointment_type_name=type_name,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        status=BookingStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        cancelled_at=row.cancelled_at,
        checked_in_at=row.checked_in_at,
        consult_started_at=row.consult_started_at,
        consult_finished_at=row.consult_finished_at,
        no_show_at=row.no_show_at,
        moves=row.moves,
    )


def view_from_rows(
    row: BookingRow, practitioner: PractitionerRow, appointment_type: AppointmentTypeRow
) -> BookingView:
    """Return the view of a booking whose practitioner and type rows are already loaded."""
    return _to_view(
        (row, practitioner.slug, practitioner.display_name, appointment_type.slug, appointment_type.name)
    )


def view_of(session: DbSession, booking_id: int) -> BookingView:
    """Return the view of one booking by row id."""
    result = session.execute(_VIEW_QUERY.where(BookingRow.id == booking_id)).one()
    return _to_view(result)


def get_booking(session: DbSession, reference: str) -> BookingView:
    """Return the booking with this reference, typed in any accepted form.

    Raises `InvalidReference` before any lookup when the check symbol is
    wrong, and `BookingNotFound` when no booking has the reference.
    """
    canonical = parse_reference(reference)
    result = session.execute(_VIEW_QUERY.where(BookingRow.reference == canonical)).first()
    if result is None:
        raise BookingNotFound(canonical)
    return _to_view(result)


def bookings_for_contact(session: DbSession, contact_id: int, now: datetime) -> list[BookingView]:
    """Return a contact's bookings that are still ahead or under way, soonest first.

    An active booking (booked or arrived) that starts on the current local
    day in the clinic's zone stays listed after its scheduled end, because a
    practitioner running late can start it later than that. It leaves the
    list when staff record the finish or a no-show, or else when the local
    day ends, so a booking never seen and never marked lasts until midnight.
    """
    zone = clinic_zone(session)
    today_start = day_start_utc(zone, local_date_of(now, zone))
    query = _VIEW_QUERY.where(
        BookingRow.contact_id == contact_id,
        BookingRow.status.in_([status.value for status in ACTIVE]),
        or_(BookingRow.ends_at > now, BookingRow.starts_at >= today_start),
    ).order_by(BookingRow.starts_at, BookingRow.id)
    return [_to_view(result) for result in session.execute(query)]


def day_bookings(
    session: DbSession,
    local_date: date,
    practitioner_id: str | None = None,
    *,
    include_cancelled: bool = False,
) -> list[BookingView]:
    """Return the bookings that start on a local date of the clinic, by start time.

    `practitioner_id` (a slug) keeps one practitioner's; cancelled bookings
    are left out unless `include_cancelled`.
    """
    zone = clinic_zone(session)
    query = _VIEW_QUERY.where(
        BookingRow.starts_at >= day_start_utc(zone, local_date),
        BookingRow.starts_at < day_start_utc(zone, local_date + timedelta(days=1)),
    )
    if practitioner_id is not None:
        known = session.scalar(select(PractitionerRow.id).where(PractitionerRow.slug == practitioner_id))
        if known is None:
            raise UnknownPractitioner(practitioner_id)
        query = query.where(PractitionerRow.slug == practitioner_id)
    if not include_cancelled:
        query = query.where(BookingRow.status != BookingStatus.CANCELLED.value)
    query = query.order_by(BookingRow.starts_at, PractitionerRow.position, BookingRow.id)
    return [_to_view(result) for result in session.execute(query)]


def clinic_zone(session: DbSession) -> ZoneInfo:
    """Return the stored clinic's time zone, or raise `ClinicNotLoaded`."""
    time_zone = session.scalar(select(ClinicRow.time_zone).order_by(ClinicRow.id).limit(1))
    if time_zone is None:
        raise ClinicNotLoaded()
    return ZoneInfo(time_zone)
