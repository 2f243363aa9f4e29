"""Tests of the booking service on SQLite and PostgreSQL: import, search, book, move, cancel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from booking import (
    BookingStatus,
    book,
    bookings_for_contact,
    cancel,
    day_bookings,
    find_slots,
    get_booking,
    import_clinic,
    load_clinic,
    move,
)
from booking.clinic import Clinic
from booking.errors import (
    BookingNotFound,
    InvalidReference,
    InvalidTransition,
    NotYourBooking,
    PastCutOff,
    SlotTaken,
    UnknownPractitioner,
)
from storage.audit import verify_audit
from storage.models.bookings import BookingCellRow
from storage.models.clinic import PractitionerRow
from storage.models.outbox import Notice

Factory = sessionmaker[Session]
SYDNEY = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # Wed 2 Dec 2026 08:00 AEDT
THURSDAY = date(2026, 12, 3)
FRIDAY = date(2026, 12, 4)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a Sydney wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=SYDNEY).astimezone(UTC)


def notices(session_factory: Factory, reference: str) -> list[tuple[str, str]]:
    """Return (kind, status) of a booking's outbox notices in insertion order."""
    with session_factory() as session:
        rows = session.scalars(select(Notice).where(Notice.reference == reference).order_by(Notice.id))
        return [(row.kind, row.status) for row in rows]


def book_standard(
    session_factory: Factory,
    clinic: Clinic,
    contact_id: int,
    starts_at: datetime,
    practitioner: str = "lee",
    type_id: str = "standard",
) -> str:
    """Book in its own transaction and return the reference."""
    with session_factory() as session, session.begin():
        view = book(
            session,
            clinic,
            contact_id=contact_id,
            appointment_type_id=type_id,
            practitioner_id=practitioner,
            starts_at=starts_at,
            now=NOW,
            actor="patient",
        )
    return view.reference


def test_import_round_trip(
    session_factory: Factory, stored_clinic: Clinic, make_clinic: Callable[..., Clinic]
) -> None:
    """A clinic loaded back from the database equals the parsed clinic."""
    assert stored_clinic == make_clinic()


def test_reimport_updates_in_place(
    session_factory: Factory, stored_clinic: Clinic, small_clinic_text: Callable[..., str]
) -> None:
    """Importing again renames, adds and deactivates by slug without duplicating rows."""
    from booking.clinic_file import parse_clinic_file

    with session_factory() as session:
        lee_id = session.scalar(select(PractitionerRow.id).where(PractitionerRow.slug == "lee"))
    text = small_clinic_text().replace('name = "Dr Lee"', 'name = "Dr Mei Lee"')
    text = text.replace('id = "okafor"\nname = "Dr Okafor"', 'id = "nair"\nname = "Dr Nair"')
    with session_factory() as session, session.begin():
        summary = import_clinic(session, parse_clinic_file(text, now=NOW), NOW)
    with session_factory() as session, session.begin():
        import_clinic(session, parse_clinic_file(text, now=NOW), NOW)

    assert summary.practitioners_added == ("nair",)
    assert summary.practitioners_deactivated == ("okafor",)
    assert summary.created is False
    with session_factory() as session:
        slugs = session.execute(
            select(PractitionerRow.slug, PractitionerRow.active).order_by(PractitionerRow.id)
        ).all()
        assert [tuple(row) for row in slugs] == [("lee", True), ("okafor", False), ("nair", True)]
        assert session.scalar(select(PractitionerRow.id).where(PractitionerRow.slug == "lee")) == lee_id
        clinic = load_clinic(session)
    assert [p.display_name for p in clinic.practitioners] == ["Dr Mei Lee", "Dr Nair"]


def test_reimport_reports_bookings_left(
    session_factory: Factory,
    stored_clinic: Clinic,
    small_clinic_text: Callable[..., str],
    add_contacts: Callable[[int], list[int]],
) -> None:
    """Dropping a practitioner lists their future bookings by reference, leaving past and cancelled ones out."""
    from booking.clinic_file import parse_clinic_file
    from booking.importing import describe_summary
    from booking.store import BookingsLeft
    from storage.models.audit import AuditEntry

    (contact,) = add_contacts(1)
    wednesday = at(date(2026, 12, 2), 9, 30)
    monday = at(date(2026, 12, 7), 9)
    refs = [
        book_standard(session_factory, stored_clinic, contact, when, practitioner="okafor")
        for when in (wednesday, monday, at(date(2026, 12, 7), 10))
    ]
    with session_factory() as session, session.begin():
        cancel(session, stored_clinic, reference=refs[2], contact_id=None, now=NOW, actor="staff:Ann")
    text = small_clinic_text().replace('id = "okafor"\nname = "Dr Okafor"', 'id = "nair"\nname = "Dr Nair"')
    friday = at(FRIDAY, 9)

    with session_factory() as session, session.begin():
        summary = import_clinic(session, parse_clinic_file(text, now=friday), friday)

    assert summary.bookings_left == (BookingsLeft("okafor", (refs[1],)),)
    assert describe_summary(summary)[-1] == (
        f"practitioner okafor is deactivated but still has 1 future booking: {refs[1]}; "
        "move them to another practitioner or cancel them"
    )
    with session_factory() as session:
        detail = session.scalars(select(AuditEntry.detail).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert detail is not None
    assert detail.endswith(" left_okafor=1")
    with session_factory() as session, session.begin():
        clinic = load_clinic(session)
        moved = move(
            session,
            clinic,
            reference=refs[1],
            contact_id=None,
            starts_at=monday,
            practitioner_id="lee",
            now=friday,
            actor="staff:Ann",
        )
    assert moved.practitioner_id == "lee"


def test_book_writes_booking_cells_notices_audit(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A booking gets a reference, its cells, a confirmation, a reminder and an audit entry."""
    (contact,) = add_contacts(1)
    with session_factory() as session, session.begin():
        view = book(
            session,
            stored_clinic,
            contact_id=contact,
            appointment_type_id="long",
            practitioner_id="lee",
            starts_at=at(THURSDAY, 9),
            now=NOW,
            actor="patient",
        )
    assert view.status is BookingStatus.BOOKED
    assert view.fhir_status == "booked"
    assert view.ends_at - view.starts_at == timedelta(minutes=30)
    with session_factory() as session:
        assert get_booking(session, view.reference.lower().replace("-", "")) == view

    with session_factory() as session:
        cells = session.scalar(select(func.count()).select_from(BookingCellRow))
        assert cells == 6
        reminder = session.scalars(select(Notice).where(Notice.kind == "reminder")).one()
        assert reminder.due_at == at(date(2026, 12, 2), 10)
        assert reminder.priority_at == view.starts_at
        assert reminder.params["starts_local"] == "Thu 3 Dec 2026 09:00"
        assert verify_audit(session).first_bad_seq is None
    assert notices(session_factory, view.reference) == [
        ("booking_confirmed", "pending"),
        ("reminder", "pending"),
    ]


def test_find_slots_skips_booked_time(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """Booked time is not offered, and a booking being moved counts its own time as free."""
    (contact,) = add_contacts(1)
    reference = book_standard(session_factory, stored_clinic, contact, at(THURSDAY, 9))
    with session_factory() as session:
        slots = find_slots(
            session,
            stored_clinic,
            appointment_type_id="long",
            practitioner_id="lee",
            now=NOW,
            from_date=THURSDAY,
            limit=2,
        )
        assert [s.starts_at for s in slots] == [at(THURSDAY, 9, 15), at(THURSDAY, 9, 30)]
        moving = find_slots(
            session,
            stored_clinic,
            appointment_type_id="long",
            practitioner_id="lee",
            now=NOW,
            from_date=THURSDAY,
            limit=1,
            moving_reference=reference,
        )
        assert [s.starts_at for s in moving] == [at(THURSDAY, 9)]


def test_find_slots_hides_others_booking(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """Another contact's booking as moving_reference raises BookingNotFound, as a missing one does."""
    from booking import new_reference

    owner, stranger = add_contacts(2)
    reference = book_standard(session_factory, stored_clinic, owner, at(THURSDAY, 9))
    missing = new_reference()

    def search(session: Session, moving: str, contact_id: int | None) -> list[datetime]:
        slots = find_slots(
            session,
            stored_clinic,
            appointment_type_id="long",
            practitioner_id="lee",
            now=NOW,
            from_date=THURSDAY,
            limit=1,
            moving_reference=moving,
            contact_id=contact_id,
        )
        return [slot.starts_at for slot in slots]

    with session_factory() as session:
        with pytest.raises(BookingNotFound) as other:
            search(session, reference, stranger)
        with pytest.raises(BookingNotFound) as absent:
            search(session, missing, stranger)
        assert type(other.value) is type(absent.value)
        assert str(other.value) == str(absent.value).replace(missing, reference)
        assert search(session, reference, owner) == [at(THURSDAY, 9)]
        assert search(session, reference, None) == [at(THURSDAY, 9)]


def test_overlapping_lengths_conflict(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A long booking blocks a standard one inside it and a procedure that overlaps it."""
    first, second = add_contacts(2)
    book_standard(session_factory, stored_clinic, first, at(THURSDAY, 10), type_id="long")
    for type_id, starts_at in (("standard", at(THURSDAY, 10, 15)), ("procedure", at(THURSDAY, 9, 30))):
        with session_factory() as session, session.begin(), pytest.raises(SlotTaken) as caught:
            book(
                session,
                stored_clinic,
                contact_id=second,
                appointment_type_id=type_id,
                practitioner_id="lee",
                starts_at=starts_at,
                now=NOW,
                actor="patient",
            )
        assert caught.value.alternatives
        assert all(alt.appointment_type_id == type_id for alt in caught.value.alternatives)
    book_standard(session_factory, stored_clinic, second, at(THURSDAY, 10, 30))


def test_move_keeps_reference_and_swaps_cells(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A move keeps the reference, frees the old time, and replaces the reminder."""
    first, second = add_contacts(2)
    reference = book_standard(session_factory, stored_clinic, first, at(THURSDAY, 9))
    with session_factory() as session, session.begin():
        moved = move(
            session,
            stored_clinic,
            reference=reference,
            contact_id=first,
            starts_at=at(FRIDAY, 14),
            now=NOW,
            actor="patient",
        )
    assert moved.reference == reference
    assert moved.starts_at == at(FRIDAY, 14)
    assert moved.moves == 1
    book_standard(session_factory, stored_clinic, second, at(THURSDAY, 9))
    assert notices(session_factory, reference) == [
        ("booking_confirmed", "pending"),
        ("reminder", "withdrawn"),
        ("booking_moved", "pending"),
        ("reminder", "pending"),
    ]


def test_move_to_other_practitioner_by_staff(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """Staff can move a booking to another practitioner inside the cut-off."""
    (contact,) = add_contacts(1)
    reference = book_standard(session_factory, stored_clinic, contact, at(date(2026, 12, 2), 10))
    with session_factory() as session, session.begin():
        moved = move(
            session,
            stored_clinic,
            reference=reference,
            contact_id=None,
            starts_at=at(date(2026, 12, 2), 9, 30),
            practitioner_id="okafor",
            now=at(date(2026, 12, 2), 9),
            actor="staff:Reception",
        )
    assert moved.practitioner_id == "okafor"
    assert moved.practitioner_name == "Dr Okafor"


def test_patient_may_not_touch_others_booking(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """Another contact gets NotYourBooking, worded like a missing booking."""
    owner, stranger = add_contacts(2)
    reference = book_standard(session_factory, stored_clinic, owner, at(THURSDAY, 9))
    with session_factory() as session, pytest.raises(NotYourBooking) as caught:
        cancel(session, stored_clinic, reference=reference, contact_id=stranger, now=NOW, actor="patient")
    with session_factory() as session, pytest.raises(BookingNotFound) as missing:
        get_booking(session, "0000-0000")
    assert str(caught.value).replace(reference, "X") == str(missing.value).replace("0000-0000", "X")


def test_cut_offs_for_patient_not_staff(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """Inside the cut-offs a patient is told to call the clinic; staff may still act."""
    (contact,) = add_contacts(1)
    reference = book_standard(session_factory, stored_clinic, contact, at(THURSDAY, 11))
    late = at(THURSDAY, 9, 30)  # 90 minutes before: inside the 4 h move and 2 h cancel cut-offs
    with session_factory() as session, pytest.raises(PastCutOff) as moved:
        move(
            session,
            stored_clinic,
            reference=reference,
            contact_id=contact,
            starts_at=at(FRIDAY, 9),
            now=late,
            actor="patient",
        )
    assert moved.value.clinic_phone == "02 9000 0000"
    assert "02 9000 0000" in str(moved.value)
    with session_factory() as session, pytest.raises(PastCutOff):
        cancel(session, stored_clinic, reference=reference, contact_id=contact, now=late, actor="patient")
    with session_factory() as session, session.begin():
        view = cancel(
            session, stored_clinic, reference=reference, contact_id=None, now=late, actor="staff:Reception"
        )
    assert view.status is BookingStatus.CANCELLED


def test_cancel_frees_time_at_once(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """After a cancel the same time can be booked by someone else in the next transaction."""
    first, second = add_contacts(2)
    reference = book_standard(session_factory, stored_clinic, first, at(THURSDAY, 9))
    with session_factory() as session, session.begin():
        view = cancel(session, stored_clinic, reference=reference, contact_id=first, now=NOW, actor="patient")
    assert view.fhir_status == "cancelled"
    assert view.cancelled_at == NOW
    book_standard(session_factory, stored_clinic, second, at(THURSDAY, 9))
    assert notices(session_factory, reference) == [
        ("booking_confirmed", "pending"),
        ("reminder", "withdrawn"),
        ("booking_cancelled", "pending"),
    ]
    with session_factory() as session, pytest.raises(InvalidTransition):
        cancel(session, stored_clinic, reference=reference, contact_id=first, now=NOW, actor="patient")


def test_contact_with_several_bookings(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A parent books for two children; both are listed, soonest first, cancelled ones not."""
    parent, other = add_contacts(2)
    second = book_standard(session_factory, stored_clinic, parent, at(FRIDAY, 9))
    first = book_standard(session_factory, stored_clinic, parent, at(THURSDAY, 9))
    gone = book_standard(session_factory, stored_clinic, parent, at(THURSDAY, 10))
    book_standard(session_factory, stored_clinic, other, at(THURSDAY, 11))
    with session_factory() as session, session.begin():
        cancel(session, stored_clinic, reference=gone, contact_id=parent, now=NOW, actor="patient")
    with session_factory() as session:
        listed = [view.reference for view in bookings_for_contact(session, parent, NOW)]
        later = [view.reference for view in bookings_for_contact(session, parent, at(FRIDAY, 8))]
    assert listed == [first, second]
    assert later == [second]


def test_day_bookings_by_local_date(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """The day list covers one local date, in start order, optionally for one practitioner."""
    (contact,) = add_contacts(1)
    wednesday = date(2026, 12, 2)
    late = book_standard(session_factory, stored_clinic, contact, at(wednesday, 17, 0), practitioner="okafor")
    early = book_standard(session_factory, stored_clinic, contact, at(wednesday, 9, 15))
    book_standard(session_factory, stored_clinic, contact, at(THURSDAY, 9))
    with session_factory() as session:
        assert [v.reference for v in day_bookings(session, wednesday)] == [early, late]
        assert [v.reference for v in day_bookings(session, wednesday, "okafor")] == [late]
        with pytest.raises(UnknownPractitioner):
            day_bookings(session, wednesday, "nobody")


def test_reference_check_before_lookup(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A reference with a wrong check symbol raises InvalidReference, a valid unknown one BookingNotFound."""
    (contact,) = add_contacts(1)
    reference = book_standard(session_factory, stored_clinic, contact, at(THURSDAY, 9))
    wrong = reference[:-1] + ("0" if reference[-1] != "0" else "1")
    with session_factory() as session:
        with pytest.raises(InvalidReference):
            get_booking(session, wrong)
        with pytest.raises(InvalidReference):
            cancel(session, stored_clinic, reference=wrong, contact_id=contact, now=NOW, actor="patient")


def test_actor_must_not_be_contact_detail(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """An actor that looks like a phone number or e-mail address is a programming error."""
    (contact,) = add_contacts(1)
    for actor in ("+61412345678", "staff:jane@example.org", "staff:0412345678", "Reception"):
        with session_factory() as session, pytest.raises(ValueError, match="actor"):
            book(
                session,
                stored_clinic,
                contact_id=contact,
                appointment_type_id="standard",
                practitioner_id="lee",
                starts_at=at(THURSDAY, 9),
                now=NOW,
                actor=actor,
            )
