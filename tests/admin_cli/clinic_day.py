"""A clinic day to run the staff tool against: the demo clinic with bookings from canary contacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

import booking
from booking.clinic_file import load_clinic_file
from booking.service import book, cancel
from booking.store import import_clinic, load_clinic
from storage import db
from tests.admin_cli.canary import CanaryContacts, seed_canary_contacts

# Wednesday 10 March 2027, 07:30 in Sydney (daylight saving, UTC+11).
ADMIN_NOW = datetime(2027, 3, 9, 20, 30, tzinfo=UTC)
SYDNEY = ZoneInfo("Australia/Sydney")
DEMO_CLINIC_FILE = Path(booking.__file__).parent / "demo_clinic.toml"
SEEDER = "staff:seeder"


@dataclass(frozen=True)
class ClinicDay:
    """The references of the seeded bookings, by role in the tests, and the canary contacts."""

    lee_first: str
    lee_second: str
    nair_first: str
    cancelled: str
    canaries: CanaryContacts


def local(hour: int, minute: int = 0) -> datetime:
    """Return 10 March 2027 at this Sydney wall time, as UTC."""
    return datetime(2027, 3, 10, hour, minute, tzinfo=SYDNEY).astimezone(UTC)


def seed_clinic_day(factory: sessionmaker[Session]) -> ClinicDay:
    """Import the demo clinic and book four appointments for canary contacts; cancel one."""
    with db.session_scope(factory) as session:
        canaries = seed_canary_contacts(session, ADMIN_NOW)
        import_clinic(session, load_clinic_file(DEMO_CLINIC_FILE, now=ADMIN_NOW), ADMIN_NOW, actor="system")

    plan = [
        (canaries.sms_id, "lee", local(9, 0)),
        (canaries.telegram_id, "lee", local(9, 15)),
        (canaries.email_id, "nair", local(9, 0)),
        (canaries.sms_id, "lee", local(11, 0)),
    ]
    references: list[str] = []
    with db.session_scope(factory) as session:
        clinic = load_clinic(session)
        for contact_id, practitioner_id, starts_at in plan:
            view = book(
                session,
                clinic,
                contact_id=contact_id,
                appointment_type_id="standard",
                practitioner_id=practitioner_id,
                starts_at=starts_at,
                now=ADMIN_NOW,
                actor=SEEDER,
            )
            references.append(view.reference)
        cancel(session, clinic, reference=references[3], contact_id=None, now=ADMIN_NOW, actor=SEEDER)
    lee_first, lee_second, nair_first, cancelled = references
    return ClinicDay(lee_first, lee_second, nair_first, cancelled, canaries)
