"""Claims on practitioners' time: the 5-minute cells a booking holds, and busy time for slot search.

The cells are the database's guarantee against double booking: a claim
inserts one `booking_cells` row per cell, and the primary key over
(practitioner, cell) rejects a second claim on any of them. Callers insert
inside a savepoint and turn the resulting `IntegrityError` into `SlotTaken`.

Every change to an existing booking first locks its row with
`lock_booking`, so two changes to one booking run one after the other and
the second reads the status and cells that the first committed. `cell_problems`
checks that the cells match the bookings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session as DbSession

from booking.availability import BusyLookup, Interval
from booking.errors import BookingNotFound
from booking.references import parse_reference
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
    """Insert the cells of one booking; a taken cell raises `IntegrityError`.

    One multi-row INSERT, in ascending cell order, rather than an
    executemany: psycopg 3.3 runs an executemany in pipeline mode, and when
    a deadlock aborts it, psycopg also logs "error ignored terminating" the
    pipeline.
    """
    session.flush()
    rows = [
        {"practitioner_id": practitioner_row_id, "cell": cell, "booking_id": booking_id}
        for cell in cells_between(starts_at, occupied_until)
    ]
    session.execute(insert(BookingCellRow).values(rows))


def release_cells(session: DbSession, booking_id: int) -> None:
    """Delete every cell that one booking holds, so its time is free at once.

    The caller holds the booking's row lock (`lock_booking`). On PostgreSQL
    this DELETE then also sees cells that a change committed while this
    transaction waited for the lock.
    """
    session.execute(delete(BookingCellRow).where(BookingCellRow.booking_id == booking_id))


def lock_booking(session: DbSession, reference: str) -> BookingRow:
    """Return the booking with this reference, locked until the caller's transaction ends.

    On PostgreSQL this is `SELECT ... FOR UPDATE`: a second change to the
    same booking waits here, then reads the row as the first change
    committed it, so status checks made after this call are current. On
    SQLite the clause is left out, because `BEGIN IMMEDIATE` already runs
    writing transactions one at a time. The row's attributes are reloaded
    even when the session had loaded it before.
    """
    canonical = parse_reference(reference)
    row = session.scalars(
        select(BookingRow)
        .where(BookingRow.reference == canonical)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise BookingNotFound(canonical)
    return row


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


def cell_problems(session: DbSession) -> list[str]:
    """Return every mismatch between the bookings and the cells they hold; empty when consistent.

    A booked or arrived booking must hold exactly the cells from its start
    to the end of its buffer, with its own practitioner. A cancelled,
    fulfilled or no-show booking must hold none. Each problem names the
    booking reference and its status.
    """
    held: dict[int, set[tuple[int, int]]] = {}
    for cell in session.scalars(select(BookingCellRow)):
        held.setdefault(cell.booking_id, set()).add((cell.practitioner_id, cell.cell))

    problems: list[str] = []
    holding = {status.value for status in HOLDS_TIME}
    for row in session.scalars(select(BookingRow).order_by(BookingRow.id)):
        expected: set[tuple[int, int]] = set()
        if row.status in holding:
            expected = {
                (row.practitioner_id, cell) for cell in cells_between(row.starts_at, row.occupied_until)
            }
        actual = held.get(row.id, set())
        if actual != expected:
            problems.append(
                f"booking {row.reference} ({row.status}) holds {len(actual)} cells, expected "
                f"{len(expected)}: {len(actual - expected)} extra, {len(expected - actual)} missing"
            )
    return problems
