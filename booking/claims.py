"""Claims on practitioners' time: the 5-minute cells a booking holds, and busy time for slot search.

The cells are the database's guarantee against double booking: a claim
inserts one `booking_cells` row per cell, and the primary key over
(practitioner, cell) rejects a second claim on any of them. Callers insert
inside a savepoint and turn the resulting `IntegrityError` into `SlotTaken`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from booking.availability import BusyLookup, Interval
from booking.status import HOLDS_TIME
from storage.models.bookings import CELL_SECONDS, BookingCellRow, BookingRow
from storage.models.clinic import PractitionerRow


def cells_between(starts_at: datetime, occupied_until: datetime) -> range:
    """Return the numbers of the cells that cover `[starts_at, occupied_until)`."""
    first = int(starts_at.astimezone(UTC).timestamp()) // CELL_SECONDS
    # Round the end up, so a partly covered last cell is claimed too.
    last = -(-int(occupied_until.astimezone(UTC).timestamp()) // CELL_SECONDS)
    return range(first, last)


def claim_cells(
    session: DbSession,
    *,
    practitioner_row_id: int,
    booking_id: int,
    starts_at: datetime,
    occupied_until: datetime,
) -> None:
    """Insert and flush the cells of one booking; a taken cell raises `IntegrityError`."""
    session.add_all(
        BookingCellRow(practitioner_id=practitioner_row_id, cell=cell, booking_id=booking_id)
        for cell in cells_between(starts_at, occupied_until)
    )
    session.flush()


def release_cells(session: DbSession, booking_id: int) -> None:
    """Delete every cell that one booking holds, so its time is free at once."""
    session.execute(delete(BookingCellRow).where(BookingCellRow.booking_id == booking_id))


def cells_taken(
    session: DbSession, *, practitioner_row_id: int, starts_at: datetime, occupied_until: datetime
) -> bool:
    """Return whether another booking already holds any cell of this interval."""
    cells = cells_between(starts_at, occupied_until)
    found = session.scalar(
        select(BookingCellRow.cell)
        .where(
            BookingCellRow.practitioner_id == practitioner_row_id,
            BookingCellRow.cell >= cells.start,
            BookingCellRow.cell < cells.stop,
        )
        .limit(1)
    )
    return found is not None


def busy_lookup(session: DbSession, *, ignore_booking_id: int | None = None) -> BusyLookup:
    """Return a `BusyLookup` over the bookings that hold time, by practitioner slug.

    `ignore_booking_id` leaves one booking out, so a move can offer times
    that overlap the booking's own current time.
    """

    def lookup(start: datetime, end: datetime) -> Mapping[str, Sequence[Interval]]:
        query = (
            select(PractitionerRow.slug, BookingRow.starts_at, BookingRow.occupied_until)
            .join(PractitionerRow, PractitionerRow.id == BookingRow.practitioner_id)
            .where(
                BookingRow.status.in_([status.value for status in HOLDS_TIME]),
                BookingRow.starts_at < end,
                BookingRow.occupied_until > start,
            )
        )
        if ignore_booking_id is not None:
            query = query.where(BookingRow.id != ignore_booking_id)
        busy: dict[str, list[Interval]] = {}
        for slug, starts_at, occupied_until in session.execute(query):
            busy.setdefault(slug, []).append((starts_at, occupied_until))
        return busy

    return lookup
