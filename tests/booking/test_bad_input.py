"""Every bad input of the booking core raises its own error and leaves the database unchanged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from booking import book, cancel, get_booking, import_clinic, move
from booking.clinic import Clinic
from booking.clinic_file import DEMO_CLINIC, load_clinic_file
from booking.errors import (
    BeyondHorizon,
    BookingError,
    ClinicFileError,
    InThePast,
    InvalidReference,
    OutsideWorkingHours,
    PastCutOff,
    TooSoon,
    UnknownAppointmentType,
    UnknownContact,
    UnknownPractitioner,
)

Factory = sessionmaker[Session]
Snapshot = Callable[[], dict[str, list[tuple[object, ...]]]]
SYDNEY = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # Wed 2 Dec 2026 08:00 AEDT
THURSDAY = date(2026, 12, 3)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a Sydney wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=SYDNEY).astimezone(UTC)


BOOKINGS = [
    ("unknown practitioner", {"practitioner_id": "nobody"}, UnknownPractitioner),
    ("unknown type", {"appointment_type_id": "massage"}, UnknownAppointmentType),
    (
        "type not offered",
        {"appointment_type_id": "procedure", "practitioner_id": "okafor"},
        UnknownAppointmentType,
    ),
    ("lunch break", {"starts_at": at(THURSDAY, 12, 30)}, OutsideWorkingHours),
    ("off the grid", {"starts_at": at(THURSDAY, 9, 5)}, OutsideWorkingHours),
    ("weekend", {"starts_at": at(date(2026, 12, 5), 10)}, OutsideWorkingHours),
    ("in the past", {"starts_at": at(date(2026, 12, 1), 10)}, InThePast),
    ("inside minimum notice", {"starts_at": at(date(2026, 12, 2), 8, 45)}, TooSoon),
    ("past the horizon", {"starts_at": at(date(2027, 1, 4), 10)}, BeyondHorizon),
]


@pytest.mark.parametrize(("case", "change", "error"), BOOKINGS, ids=[c[0] for c in BOOKINGS])
def test_bad_booking_changes_nothing(
    session_factory: Factory,
    stored_clinic: Clinic,
    add_contacts: Callable[[int], list[int]],
    snapshot: Snapshot,
    case: str,
    change: dict[str, object],
    error: type[BookingError],
) -> None:
    """A booking that breaks a rule raises its error and writes nothing."""
    (contact,) = add_contacts(1)
    arguments: dict[str, object] = {
        "contact_id": contact,
        "appointment_type_id": "standard",
        "practitioner_id": "lee",
        "starts_at": at(THURSDAY, 9),
    } | change
    before = snapshot()
    with session_factory() as session, session.begin(), pytest.raises(error) as caught:
        book(session, stored_clinic, now=NOW, actor="patient", **arguments)  # type: ignore[arg-type]
    assert str(caught.value), case
    assert snapshot() == before


def test_unknown_contact_changes_nothing(
    session_factory: Factory, stored_clinic: Clinic, snapshot: Snapshot
) -> None:
    """Booking for a contact row that does not exist raises UnknownContact, not a database error."""
    before = snapshot()
    with session_factory() as session, session.begin(), pytest.raises(UnknownContact) as caught:
        book(
            session,
            stored_clinic,
            contact_id=999999,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=at(THURSDAY, 9),
            now=NOW,
            actor="patient",
        )
    assert str(caught.value) == "no contact has row id 999999; resolve the contact before booking for it"
    assert snapshot() == before


def test_bad_move_and_cancel_change_nothing(
    session_factory: Factory,
    stored_clinic: Clinic,
    add_contacts: Callable[[int], list[int]],
    snapshot: Snapshot,
) -> None:
    """Moves and cancels past their cut-off, to a bad time, or by a bad reference write nothing."""
    (contact,) = add_contacts(1)
    with session_factory() as session, session.begin():
        reference = book(
            session,
            stored_clinic,
            contact_id=contact,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=at(THURSDAY, 11),
            now=NOW,
            actor="patient",
        ).reference
    late = at(THURSDAY, 9, 30)
    wrong_check = reference[:-1] + ("0" if reference[-1] != "0" else "1")
    attempts: list[tuple[Callable[[Session], object], type[BookingError]]] = [
        (
            lambda s: move(
                s,
                stored_clinic,
                reference=reference,
                contact_id=contact,
                starts_at=at(THURSDAY, 15),
                now=late,
                actor="patient",
            ),
            PastCutOff,
        ),
        (
            lambda s: cancel(
                s, stored_clinic, reference=reference, contact_id=contact, now=late, actor="patient"
            ),
            PastCutOff,
        ),
        (
            lambda s: move(
                s,
                stored_clinic,
                reference=reference,
                contact_id=contact,
                starts_at=at(THURSDAY, 12, 15),
                now=NOW,
                actor="patient",
            ),
            OutsideWorkingHours,
        ),
        (
            lambda s: move(
                s,
                stored_clinic,
                reference=reference,
                contact_id=None,
                starts_at=at(THURSDAY, 9),
                practitioner_id="nobody",
                now=NOW,
                actor="staff:Reception",
            ),
            UnknownPractitioner,
        ),
        (
            lambda s: cancel(
                s, stored_clinic, reference=wrong_check, contact_id=contact, now=NOW, actor="patient"
            ),
            InvalidReference,
        ),
        (lambda s: get_booking(s, wrong_check), InvalidReference),
    ]
    before = snapshot()
    for attempt, error in attempts:
        with session_factory() as session, session.begin(), pytest.raises(error):
            attempt(session)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('name = "Dr Mei Lee"\n', ""), "practitioners#1.name"),
        (('"13:30-17:00"', '"13:30-27:00"'), "13:30-27:00"),
    ],
)
def test_bad_clinic_file_changes_nothing(
    session_factory: Factory,
    stored_clinic: Clinic,
    snapshot: Snapshot,
    tmp_path: Path,
    change: tuple[str, str],
    expected: str,
) -> None:
    """A clinic file with a missing field or an impossible time is rejected before the import."""
    broken = tmp_path / "clinic.toml"
    text = DEMO_CLINIC.read_text(encoding="utf-8")
    assert change[0] in text
    broken.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    before = snapshot()
    with pytest.raises(ClinicFileError) as caught, session_factory() as session, session.begin():
        import_clinic(session, load_clinic_file(broken, now=NOW), NOW)
    assert expected in str(caught.value)
    assert "line" in str(caught.value)
    assert snapshot() == before


def test_staff_inside_notice_is_allowed(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """Staff may book inside the minimum notice that stops a patient."""
    (contact,) = add_contacts(1)
    with session_factory() as session, session.begin():
        view = book(
            session,
            stored_clinic,
            contact_id=contact,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=at(date(2026, 12, 2), 9),
            now=at(date(2026, 12, 2), 8, 30),
            actor="staff:Reception",
        )
    assert view.starts_at - at(date(2026, 12, 2), 8, 30) == timedelta(minutes=30)
