"""Fixtures for the booking core's tests: clinics built from clinic-file text."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from booking.clinic import Clinic
from booking.clinic_file import parse_clinic_file
from booking.store import import_clinic, load_clinic
from storage.models import Base
from storage.models.contacts import Contact

# A Wednesday morning in Sydney (Wed 2 Dec 2026 08:00 AEDT).
WEDNESDAY_MORNING = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)

SMALL_CLINIC = """
[clinic]
name = "Test Clinic"
phone = "02 9000 0000"

[rules]
slot_interval_minutes = 15
minimum_notice_minutes = 60
horizon_days = 30
{extra_rules}

[[practitioners]]
id = "lee"
name = "Dr Lee"

[practitioners.hours]
monday = ["09:00-12:00", "13:00-17:00"]
tuesday = ["09:00-12:00", "13:00-17:00"]
wednesday = ["09:00-12:00", "13:00-17:00"]
thursday = ["09:00-12:00", "13:00-17:00"]
friday = ["09:00-12:00", "13:00-17:00"]
sunday = {sunday}

[[practitioners]]
id = "okafor"
name = "Dr Okafor"

[practitioners.hours]
monday = ["09:00-12:00"]
wednesday = ["09:00-12:00", "17:00-20:00"]

[[appointment_types]]
id = "standard"
name = "Standard consultation"
duration_minutes = 15

[[appointment_types]]
id = "long"
name = "Long consultation"
duration_minutes = 30

[[appointment_types]]
id = "procedure"
name = "Procedure"
duration_minutes = 45
practitioners = ["lee"]
{overrides}
"""

ClinicFactory = Callable[..., Clinic]


@pytest.fixture
def small_clinic_text() -> Callable[..., str]:
    """Return a function that fills in the small test clinic's text."""

    def fill(extra_rules: str = "", overrides: str = "", sunday: str = "[]") -> str:
        return SMALL_CLINIC.format(extra_rules=extra_rules, overrides=overrides, sunday=sunday)

    return fill


@pytest.fixture
def make_clinic() -> ClinicFactory:
    """Return a factory for the small test clinic with optional rule lines and overrides."""

    def build(
        *,
        extra_rules: str = "",
        overrides: str = "",
        sunday: str = "[]",
        now: datetime = WEDNESDAY_MORNING,
        time_zone: str | None = None,
    ) -> Clinic:
        text = SMALL_CLINIC.format(extra_rules=extra_rules, overrides=overrides, sunday=sunday)
        if time_zone is not None:
            text = text.replace(
                'phone = "02 9000 0000"', f'phone = "02 9000 0000"\ntime_zone = "{time_zone}"'
            )
        return parse_clinic_file(text, now=now)

    return build


@pytest.fixture
def add_contacts(session_factory: sessionmaker[Session]) -> Callable[[int], list[int]]:
    """Return a function that inserts contact rows and returns their ids."""

    def add(count: int) -> list[int]:
        with session_factory() as session, session.begin():
            rows = [
                Contact(
                    channel="sms",
                    pseudonym=secrets.token_bytes(32),
                    pseudonym_key_id="test",
                    created_at=WEDNESDAY_MORNING,
                )
                for _ in range(count)
            ]
            session.add_all(rows)
            session.flush()
            return [row.id for row in rows]

    return add


@pytest.fixture
def stored_clinic(session_factory: sessionmaker[Session], make_clinic: ClinicFactory) -> Clinic:
    """Import the small test clinic into the database and return it as loaded back."""
    with session_factory() as session, session.begin():
        import_clinic(session, make_clinic(), WEDNESDAY_MORNING)
    with session_factory() as session:
        return load_clinic(session)


@pytest.fixture
def snapshot(session_factory: sessionmaker[Session]) -> Callable[[], dict[str, list[tuple[object, ...]]]]:
    """Return a function that reads every row of every table, to prove nothing changed."""

    def read() -> dict[str, list[tuple[object, ...]]]:
        with session_factory() as session:
            return {
                name: sorted((tuple(row) for row in session.execute(table.select())), key=repr)
                for name, table in Base.metadata.tables.items()
            }

    return read
