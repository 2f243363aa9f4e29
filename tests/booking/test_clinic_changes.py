"""Book and move check the clinic's committed set-up, even when the caller's `Clinic` is older."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from booking import book, day_bookings, get_booking, load_clinic, move
from booking.clinic import Clinic
from booking.clinic import Session as ClinicSession
from booking.errors import OutsideWorkingHours
from booking.store import add_staff_override, clinic_revision, raise_clinic_revision
from storage.models.bookings import BookingRow

Factory = sessionmaker[Session]
SYDNEY = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # Wed 2 Dec 2026 08:00 AEDT
THURSDAY = date(2026, 12, 3)
FRIDAY = date(2026, 12, 4)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a Sydney wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=SYDNEY).astimezone(UTC)


def book_lee(session_factory: Factory, clinic: Clinic, contact_id: int, starts_at: datetime) -> str:
    """Book a standard appointment with Dr Lee in its own transaction and return the reference."""
    with session_factory() as session, session.begin():
        view = book(
            session,
            clinic,
            contact_id=contact_id,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=starts_at,
            now=NOW,
            actor="patient",
        )
    return view.reference


def close_day(session_factory: Factory, practitioner_id: str, day: date) -> None:
    """Record a day of leave in its own transaction, as `sealbook-admin leave` does."""
    with session_factory() as session, session.begin():
        add_staff_override(session, practitioner_id=practitioner_id, day=day, sessions=(), reason="leave")


def count_bookings(session_factory: Factory) -> int:
    """Return how many booking rows exist, whatever their status."""
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(BookingRow)) or 0


def test_loaded_clinic_carries_revision(session_factory: Factory, stored_clinic: Clinic) -> None:
    """`load_clinic` records the stored revision it read, and a later change raises it."""
    close_day(session_factory, "lee", THURSDAY)

    with session_factory() as session:
        reloaded = load_clinic(session)
        stored = clinic_revision(session)

    assert stored_clinic.revision == 1
    assert reloaded.revision == 2
    assert stored == 2


def test_book_stale_clinic_after_leave(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A booking on a day closed since the caller loaded the clinic raises and writes nothing."""
    (contact,) = add_contacts(1)
    close_day(session_factory, "lee", THURSDAY)
    assert stored_clinic.sessions_on("lee", THURSDAY) != ()

    with pytest.raises(OutsideWorkingHours):
        book_lee(session_factory, stored_clinic, contact, at(THURSDAY, 10))

    assert count_bookings(session_factory) == 0


def test_move_stale_clinic_after_leave(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A move onto a day closed since the caller loaded the clinic raises and leaves the booking."""
    (contact,) = add_contacts(1)
    reference = book_lee(session_factory, stored_clinic, contact, at(FRIDAY, 10))
    close_day(session_factory, "lee", THURSDAY)

    with pytest.raises(OutsideWorkingHours), session_factory() as session, session.begin():
        move(
            session,
            stored_clinic,
            reference=reference,
            contact_id=contact,
            starts_at=at(THURSDAY, 10),
            now=NOW,
            actor="patient",
        )

    with session_factory() as session:
        assert get_booking(session, reference).starts_at == at(FRIDAY, 10)


def test_book_stale_clinic_shorter_hours(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """Hours shortened by staff apply to a caller's older clinic: the cut time raises, the rest books."""
    first, second = add_contacts(2)
    with session_factory() as session, session.begin():
        add_staff_override(
            session,
            practitioner_id="lee",
            day=THURSDAY,
            sessions=(ClinicSession(time(9), time(11)),),
            reason="away",
        )

    with pytest.raises(OutsideWorkingHours):
        book_lee(session_factory, stored_clinic, first, at(THURSDAY, 14))
    reference = book_lee(session_factory, stored_clinic, second, at(THURSDAY, 10))

    with session_factory() as session:
        assert get_booking(session, reference).starts_at == at(THURSDAY, 10)
        assert [view.reference for view in day_bookings(session, THURSDAY, "lee")] == [reference]


def test_book_stale_clinic_same_hours(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A raised revision that changes no hours still lets an older clinic book."""
    (contact,) = add_contacts(1)
    with session_factory() as session, session.begin():
        raise_clinic_revision(session)

    reference = book_lee(session_factory, stored_clinic, contact, at(THURSDAY, 10))

    with session_factory() as session:
        assert get_booking(session, reference).starts_at == at(THURSDAY, 10)
