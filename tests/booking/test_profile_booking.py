"""Booking through each domain profile changes the wording, with the same code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from booking import book, find_slots, get_booking, import_clinic, load_clinic
from booking.clinic_file import parse_clinic_file
from booking.wording import describe_booking
from storage.models.outbox import Notice

NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("profile", "appointment", "practitioner", "type_name"),
    [
        ("medical", "appointment", "practitioner", "Standard consultation"),
        ("student-consultations", "consultation", "tutor", "Drop-in question"),
        ("law-practice", "meeting", "lawyer", "Initial meeting"),
    ],
)
def test_booking_wording_follows_profile(
    session_factory: sessionmaker[Session],
    small_clinic_text: Callable[..., str],
    add_contacts: Callable[[int], list[int]],
    profile: str,
    appointment: str,
    practitioner: str,
    type_name: str,
) -> None:
    """The same clinic file under another profile books its types and speaks its words."""
    text = small_clinic_text()
    text = text[: text.index("[[appointment_types]]")]
    text = text.replace('phone = "02 9000 0000"', f'phone = "02 9000 0000"\nprofile = "{profile}"')
    text = text.replace("minimum_notice_minutes = 60\n", "")
    (contact,) = add_contacts(1)

    with session_factory() as session, session.begin():
        import_clinic(session, parse_clinic_file(text, now=NOW), NOW)
        clinic = load_clinic(session)
        first_type = clinic.appointment_types[0]
        slot = find_slots(session, clinic, appointment_type_id=first_type.id, now=NOW, limit=1)[0]
        view = book(
            session,
            clinic,
            contact_id=contact,
            appointment_type_id=first_type.id,
            practitioner_id=slot.practitioner_id,
            starts_at=slot.starts_at,
            now=NOW,
            actor="patient",
        )
    with session_factory() as session:
        sentence = describe_booking(clinic, get_booking(session, view.reference))
        params = session.scalars(select(Notice.params).where(Notice.kind == "booking_confirmed")).one()

    assert clinic.profile.name == profile
    assert view.appointment_type_name == type_name
    assert sentence.startswith(f"Your {appointment} ({type_name}) with {practitioner} ")
    assert params["vocabulary"]["appointment"] == appointment
    assert params["vocabulary"]["practitioner"] == practitioner
    assert params["profile"] == profile
