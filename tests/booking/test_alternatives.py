"""Tests of the alternatives that SlotTaken offers: the nearest free slots, same practitioner first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from booking import book, import_clinic, load_clinic
from booking.availability import Slot
from booking.clinic import Clinic
from booking.clinic_file import parse_clinic_file
from booking.errors import SlotTaken

Factory = sessionmaker[Session]
SYDNEY = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # Wed 2 Dec 2026 08:00 AEDT
THURSDAY = date(2026, 12, 3)
MONDAY = date(2026, 12, 7)

# Dr Okafor is away this Wednesday and works only 11:15 to 11:45 next Monday,
# the last day of a six-day horizon, so two standard slots are all he has.
OKAFOR_SHORT_WEEK = """
[[overrides]]
practitioner = "okafor"
date = 2026-12-02
kind = "closed"

[[overrides]]
practitioner = "okafor"
date = 2026-12-07
kind = "replace"
sessions = ["11:15-11:45"]
"""


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a Sydney wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=SYDNEY).astimezone(UTC)


def shown(slots: tuple[Slot, ...]) -> list[tuple[str, str]]:
    """Return slots as (practitioner, local HH:MM) pairs, in order."""
    return [(slot.practitioner_id, f"{slot.starts_at.astimezone(SYDNEY):%H:%M}") for slot in slots]


def taken_twice(
    factory: Factory, clinic: Clinic, contacts: list[int], practitioner: str, starts_at: datetime
) -> SlotTaken:
    """Book a slot for the first contact, then try it for the second; return the SlotTaken raised."""
    for contact in contacts:
        with factory() as session, session.begin():
            try:
                book(
                    session,
                    clinic,
                    contact_id=contact,
                    appointment_type_id="standard",
                    practitioner_id=practitioner,
                    starts_at=starts_at,
                    now=NOW,
                    actor="patient",
                )
            except SlotTaken as taken:
                return taken
    raise AssertionError("the second booking of the same slot was not rejected")


def test_alternatives_are_nearest_on_the_day(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A taken afternoon slot offers the free times around it, not the start of the day."""
    taken = taken_twice(session_factory, stored_clinic, add_contacts(2), "lee", at(THURSDAY, 14))
    assert shown(taken.alternatives) == [("lee", "13:45"), ("lee", "14:15"), ("lee", "13:30")]


def test_alternatives_fill_with_other_practitioners(
    session_factory: Factory,
    small_clinic_text: Callable[..., str],
    add_contacts: Callable[[int], list[int]],
) -> None:
    """The practitioner's own free slots come first, then anyone's nearest to the time asked for."""
    text = small_clinic_text(overrides=OKAFOR_SHORT_WEEK).replace("horizon_days = 30", "horizon_days = 6")
    with session_factory() as session, session.begin():
        import_clinic(session, parse_clinic_file(text, now=NOW), NOW)
    with session_factory() as session:
        clinic = load_clinic(session)

    taken = taken_twice(session_factory, clinic, add_contacts(2), "okafor", at(MONDAY, 11, 30))

    assert shown(taken.alternatives) == [("okafor", "11:15"), ("lee", "11:30"), ("lee", "11:15")]


@pytest.mark.parametrize(
    ("hour", "expected"),
    [
        (9, [("lee", "09:15"), ("lee", "09:30"), ("lee", "09:45")]),
        (16, [("lee", "15:45"), ("lee", "16:15"), ("lee", "15:30")]),
        (11, [("lee", "10:45"), ("lee", "11:15"), ("lee", "10:30")]),
    ],
)
def test_alternatives_at_session_edges(
    session_factory: Factory,
    stored_clinic: Clinic,
    add_contacts: Callable[[int], list[int]],
    hour: int,
    expected: list[tuple[str, str]],
) -> None:
    """At a session's first slot the alternatives all follow it; elsewhere they alternate around it."""
    taken = taken_twice(session_factory, stored_clinic, add_contacts(2), "lee", at(THURSDAY, hour))
    assert shown(taken.alternatives) == expected
