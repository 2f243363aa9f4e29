"""The running-late replay driver that runs every event through the database and the booking core."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from booking import book, late, late_away
from booking.clinic import Clinic
from booking.clinic_file import parse_clinic_file
from booking.late_notices import RUNNING_LATE, SESSION_CANCELLED
from booking.store import import_clinic, load_clinic
from storage import db
from storage.models.contacts import Contact
from storage.models.outbox import Notice
from tests.booking.late_replay import DAY, ZONE, Issued, Scenario, at, local_text

STAFF = "staff:Reception"
# The scenario day's clinic: Dr Lee works 08:00 to 18:00 on Wednesdays.
LATE_CLINIC = """
[clinic]
name = "Harbour Street Medical"
phone = "02 9000 0000"
time_zone = "Australia/Sydney"

[rules]
slot_interval_minutes = 15
minimum_notice_minutes = 60
horizon_days = 30

[[practitioners]]
id = "lee"
name = "Dr Lee"

[practitioners.hours]
wednesday = ["08:00-18:00"]

[[appointment_types]]
id = "standard"
name = "Standard consultation"
duration_minutes = 15
"""
# Bookings are made the afternoon before the scenario day.
BOOKED_AT = at("15:00") - timedelta(days=1)


def seed_day(factory: sessionmaker[Session], scenario: Scenario) -> tuple[Clinic, dict[int, str]]:
    """Import the clinic and book the scenario's day, one contact per booking; return references by number."""
    with db.session_scope(factory) as session:
        import_clinic(session, parse_clinic_file(LATE_CLINIC, now=BOOKED_AT), BOOKED_AT)
    with factory() as session:
        clinic = load_clinic(session)

    references: dict[int, str] = {}
    with db.session_scope(factory) as session:
        for number in range(1, scenario.count + 1):
            contact = Contact(
                channel="sms",
                pseudonym=secrets.token_bytes(32),
                pseudonym_key_id="test",
                created_at=BOOKED_AT,
            )
            session.add(contact)
            session.flush()
            view = book(
                session,
                clinic,
                contact_id=contact.id,
                appointment_type_id="standard",
                practitioner_id="lee",
                starts_at=scenario.scheduled(number),
                now=BOOKED_AT,
                actor=STAFF,
            )
            references[number] = view.reference
    return clinic, references


class DatabaseDayDriver:
    """Runs each event through `booking.late` in its own transaction, as the staff tool and tick do."""

    def __init__(self, factory: sessionmaker[Session], scenario: Scenario) -> None:
        self._factory = factory
        self.clinic, self.references = seed_day(factory, scenario)
        self._numbers = {reference: number for number, reference in self.references.items()}

    def check_in(self, number: int, now: datetime) -> None:
        with db.session_scope(self._factory) as session:
            late.check_in(session, self.clinic, reference=self.references[number], now=now, actor=STAFF)

    def start_consult(self, number: int, now: datetime) -> None:
        with db.session_scope(self._factory) as session:
            late.start_consult(session, self.clinic, reference=self.references[number], now=now, actor=STAFF)

    def finish_consult(self, number: int, now: datetime) -> None:
        with db.session_scope(self._factory) as session:
            late.finish_consult(session, self.clinic, reference=self.references[number], now=now, actor=STAFF)

    def declare_late(self, minutes: int, now: datetime) -> None:
        with db.session_scope(self._factory) as session:
            late.declare_late(
                session,
                self.clinic,
                practitioner_id="lee",
                minutes=minutes,
                local_date=DAY,
                now=now,
                actor=STAFF,
            )

    def declare_away(self, from_at: datetime, now: datetime) -> None:
        with db.session_scope(self._factory) as session:
            late_away.declare_away(
                session,
                self.clinic,
                practitioner_id="lee",
                from_time=from_at.astimezone(ZONE).time(),
                local_date=DAY,
                now=now,
                actor=STAFF,
            )

    def tick(self, now: datetime) -> None:
        late.tick(self._factory, now, self.clinic)

    def issued(self) -> list[Issued]:
        with self._factory() as session:
            notices = session.scalars(
                select(Notice).where(Notice.kind.in_([RUNNING_LATE, SESSION_CANCELLED])).order_by(Notice.id)
            ).all()
        return [
            Issued(
                at_text=local_text(notice.created_at),
                number=self._numbers[notice.reference or ""],
                kind=notice.kind,
                step=notice.params.get("step"),
                expected_text=notice.params.get("expected_time_local"),
            )
            for notice in notices
        ]
