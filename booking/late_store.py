"""Database reads and writes behind the running-late projection: one practitioner's day at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session as DbSession

from booking.errors import ClinicNotLoaded, UnknownPractitioner
from booking.localtime import day_start_utc
from booking.projection import DayBooking
from storage.models.bookings import BookingRow
from storage.models.clinic import ClinicRow, PractitionerRow
from storage.models.delays import DelayDeclaration, LateNoticeStep

# Class id of the PostgreSQL advisory locks that serialise recomputing one
# practitioner's day; the object id is the practitioner's row id.
_LATE_LOCK_CLASS = 0x5EA1


@dataclass(frozen=True)
class PractitionerDay:
    """One practitioner's local day and the rows it was loaded from."""

    practitioner: PractitionerRow
    local_date: date
    rows: tuple[BookingRow, ...]
    declared_delay_minutes: int | None

    def day_bookings(self) -> list[DayBooking]:
        """Return the rows as the projection's input records."""
        return [day_booking(row) for row in self.rows]

    def rows_by_id(self) -> dict[int, BookingRow]:
        """Return the loaded rows by booking id."""
        return {row.id: row for row in self.rows}

    def row(self, booking_id: int) -> BookingRow:
        """Return the loaded row of one booking of this day; a KeyError if it is not of this day."""
        return self.rows_by_id()[booking_id]


def day_booking(row: BookingRow) -> DayBooking:
    """Return a booking row as the projection's input record."""
    return DayBooking(
        booking_id=row.id,
        reference=row.reference,
        starts_at=row.starts_at,
        duration=row.ends_at - row.starts_at,
        status=row.status,
        checked_in_at=row.checked_in_at,
        started_at=row.consult_started_at,
        finished_at=row.consult_finished_at,
    )


def clinic_zone(session: DbSession) -> ZoneInfo:
    """Return the clinic's time zone, or raise `ClinicNotLoaded`."""
    time_zone = session.scalar(select(ClinicRow.time_zone).order_by(ClinicRow.id).limit(1))
    if time_zone is None:
        raise ClinicNotLoaded()
    return ZoneInfo(time_zone)


def practitioner_by_slug(session: DbSession, practitioner_id: str) -> PractitionerRow:
    """Return the practitioner row with this slug, or raise `UnknownPractitioner`."""
    row = session.scalars(select(PractitionerRow).where(PractitionerRow.slug == practitioner_id)).first()
    if row is None:
        raise UnknownPractitioner(practitioner_id)
    return row


def lock_practitioner(session: DbSession, practitioner_row_id: int) -> None:
    """Hold the lock on a practitioner's running-late state until the transaction ends.

    Callers take it before anything else that locks, the audit log included,
    so that every transaction takes the locks in the same order. On SQLite
    every write transaction starts with BEGIN IMMEDIATE, which already
    serialises writers.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:lock_class, :practitioner)"),
            {"lock_class": _LATE_LOCK_CLASS, "practitioner": practitioner_row_id},
        )


def load_practitioner_day(
    session: DbSession, practitioner: PractitionerRow, local_date: date, zone: ZoneInfo
) -> PractitionerDay:
    """Load the bookings that start on a local date, and the delay declared for it."""
    rows = session.scalars(
        select(BookingRow)
        .where(
            BookingRow.practitioner_id == practitioner.id,
            BookingRow.starts_at >= day_start_utc(zone, local_date),
            BookingRow.starts_at < day_start_utc(zone, local_date + timedelta(days=1)),
        )
        .order_by(BookingRow.starts_at, BookingRow.id)
    ).all()
    return PractitionerDay(
        practitioner=practitioner,
        local_date=local_date,
        rows=tuple(rows),
        declared_delay_minutes=declared_delay(session, practitioner.id, local_date),
    )


def declared_delay(session: DbSession, practitioner_row_id: int, local_date: date) -> int | None:
    """Return the delay in force for a practitioner's day: the newest "late" declaration, 0 as None."""
    minutes = session.scalar(
        select(DelayDeclaration.late_minutes)
        .where(
            DelayDeclaration.practitioner_id == practitioner_row_id,
            DelayDeclaration.local_date == local_date,
            DelayDeclaration.kind == "late",
        )
        .order_by(DelayDeclaration.id.desc())
        .limit(1)
    )
    return minutes or None


def notified_steps(session: DbSession, rows: Sequence[BookingRow]) -> dict[int, list[int]]:
    """Return the steps each booking has been notified at since its latest move."""
    if not rows:
        return {}
    moves = {row.id: row.moves for row in rows}
    steps: dict[int, list[int]] = {}
    for booking_id, booking_moves, step in session.execute(
        select(LateNoticeStep.booking_id, LateNoticeStep.booking_moves, LateNoticeStep.step)
        .where(LateNoticeStep.booking_id.in_(list(moves)))
        .order_by(LateNoticeStep.notified_at, LateNoticeStep.step)
    ):
        if moves[booking_id] == booking_moves:
            steps.setdefault(booking_id, []).append(step)
    return steps


def step_row(
    row: BookingRow, step: int, delay_minutes: int, expected_at: datetime, now: datetime
) -> LateNoticeStep:
    """Return the record that a booking's patient is notified at ``step``; a repeat violates the primary key."""
    return LateNoticeStep(
        booking_id=row.id,
        booking_moves=row.moves,
        step=step,
        delay_minutes=delay_minutes,
        expected_at=expected_at,
        notified_at=now,
    )


def add_declaration(
    session: DbSession,
    *,
    practitioner_row_id: int,
    local_date: date,
    kind: str,
    now: datetime,
    actor: str,
    late_minutes: int | None = None,
    away_from_at: datetime | None = None,
) -> DelayDeclaration:
    """Append a declaration for a practitioner's day to the caller's transaction."""
    declaration = DelayDeclaration(
        practitioner_id=practitioner_row_id,
        local_date=local_date,
        kind=kind,
        late_minutes=late_minutes,
        away_from_at=away_from_at,
        declared_at=now,
        actor=actor,
    )
    session.add(declaration)
    session.flush()
    return declaration


def practitioners_with_bookings(
    session: DbSession, local_date: date, zone: ZoneInfo
) -> list[PractitionerRow]:
    """Return the practitioners who have any booking starting on a local date, in clinic order."""
    booked = (
        select(BookingRow.practitioner_id)
        .where(
            BookingRow.starts_at >= day_start_utc(zone, local_date),
            BookingRow.starts_at < day_start_utc(zone, local_date + timedelta(days=1)),
        )
        .distinct()
    )
    return list(
        session.scalars(
            select(PractitionerRow)
            .where(PractitionerRow.id.in_(booked))
            .order_by(PractitionerRow.position, PractitionerRow.id)
        )
    )
