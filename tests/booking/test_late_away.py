"""A practitioner away for the rest of a session: what is cancelled, who is told, and what is kept."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from booking import get_booking
from booking.clinic import Session as ClinicSession
from booking.late_away import AwayOutcome, declare_away, preview_away, sessions_before_absence
from booking.late_notices import SESSION_CANCELLED
from booking.service import find_slots
from booking.store import load_clinic
from storage import db
from storage.models.audit import AuditEntry
from storage.models.delays import DelayDeclaration
from storage.models.outbox import Notice
from tests.booking.late_db_driver import STAFF, DatabaseDayDriver
from tests.booking.late_replay import DAY, Scenario, at

Factory = sessionmaker[Session]

# Eight 15-minute bookings every half hour from 13:00 (13:00 to 16:30).
AFTERNOON = Scenario(
    name="afternoon",
    first_start="13:00",
    count=8,
    interval_minutes=30,
    duration_minutes=15,
    replay_from="12:00",
    replay_until="12:00",
)


@pytest.fixture
def day(session_factory: Factory) -> DatabaseDayDriver:
    """Return a driver over the afternoon's eight bookings with Dr Lee."""
    return DatabaseDayDriver(session_factory, AFTERNOON)


def leave(factory: Factory, day: DatabaseDayDriver, from_text: str, now_text: str) -> AwayOutcome:
    """Declare Dr Lee away from a local time, at a local time."""
    with db.session_scope(factory) as session:
        return declare_away(
            session,
            day.clinic,
            practitioner_id="lee",
            from_time=time.fromisoformat(from_text),
            local_date=DAY,
            now=at(now_text),
            actor=STAFF,
        )


def notices_of(factory: Factory, reference: str) -> list[tuple[str, str]]:
    """Return (kind, status) of every notice about one booking queued on the scenario day."""
    with factory() as session:
        rows = session.scalars(
            select(Notice)
            .where(Notice.reference == reference, Notice.created_at >= at("00:00"))
            .order_by(Notice.id)
        )
        return [(row.kind, row.status) for row in rows]


def test_away_cancels_rest_of_session(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """Leaving at 15:00 cancels the bookings from 15:00 and keeps the earlier ones."""
    outcome = leave(session_factory, day, "15:00", "12:30")

    assert outcome.cancelled == tuple(day.references[n] for n in range(5, 9))
    assert outcome.in_waiting_room == ()
    with session_factory() as session:
        statuses = [get_booking(session, day.references[n]).status.value for n in range(1, 9)]
    assert statuses == ["booked"] * 4 + ["cancelled"] * 4


def test_away_sends_one_notice_each(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """Each cancelled patient gets one session-cancelled notice; the plain cancellation is withdrawn."""
    leave(session_factory, day, "15:00", "12:30")

    assert notices_of(session_factory, day.references[5]) == [
        ("booking_cancelled", "withdrawn"),
        (SESSION_CANCELLED, "pending"),
    ]
    assert notices_of(session_factory, day.references[4]) == []


def test_away_offers_time_outside_absence(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """The offered time is a real free slot, never one inside the absence the booking was cancelled for."""
    leave(session_factory, day, "15:00", "12:30")

    with session_factory() as session:
        notice = session.scalars(
            select(Notice).where(Notice.kind == SESSION_CANCELLED).order_by(Notice.id).limit(1)
        ).one()
    params = notice.params
    assert params["away_from_local"] == "15:00"
    assert params["rebook_hint"] == "To choose a new time, reply MENU or call 02 9000 0000."
    assert params["next_free_at"] is not None
    assert not at("15:00").isoformat() <= params["next_free_at"] < at("18:00").isoformat()
    assert params["next_free_practitioner_name"] == "Dr Lee"


def test_away_leaves_checked_in_patient(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """A patient already in the waiting room is reported for reception, not cancelled."""
    day.check_in(5, at("14:50"))
    outcome = leave(session_factory, day, "15:00", "14:55")

    assert outcome.in_waiting_room == (day.references[5],)
    assert day.references[5] not in outcome.cancelled
    with session_factory() as session:
        assert get_booking(session, day.references[5]).status.value == "arrived"


def test_away_reaches_projected_late(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """A booking due before the absence but projected after it is cancelled too."""
    for number, start, finish in [(1, "13:00", "13:15"), (2, "13:30", "13:45")]:
        day.start_consult(number, at(start))
        day.finish_consult(number, at(finish))
    day.start_consult(3, at("14:00"))
    day.tick(at("14:50"))  # booking 3 has run 35 minutes over; booking 4 (14:30) is now 14:50

    with session_factory() as session:
        preview = preview_away(
            session,
            day.clinic,
            practitioner_id="lee",
            from_time=time(14, 45),
            local_date=DAY,
            now=at("14:50"),
        )
    outcome = leave(session_factory, day, "14:45", "14:50")

    assert preview.reach.projected_after[0].reference == day.references[4]
    assert outcome.cancelled == tuple(day.references[n] for n in range(4, 9))


def test_away_is_recorded_and_audited(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """The absence is stored with its start, and audited with counts but no patient data."""
    leave(session_factory, day, "15:00", "12:30")

    with session_factory() as session:
        declaration = session.scalars(select(DelayDeclaration)).one()
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "declare_away")).one()
        cancels = session.scalars(select(AuditEntry).where(AuditEntry.action == "cancel")).all()
    assert declaration.away_from_at == at("15:00")
    assert entry.detail == "practitioner=lee date=2027-03-10 from=15:00 cancelled=4 in_waiting_room=0"
    assert len(cancels) == 4
    assert {cancel.actor for cancel in cancels} == {STAFF}


def test_away_twice_cancels_nothing_more(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """Declaring the same absence again finds nothing left to cancel and sends nothing."""
    leave(session_factory, day, "15:00", "12:30")
    again = leave(session_factory, day, "15:00", "12:40")

    assert again.cancelled == ()
    with session_factory() as session:
        count = len(session.scalars(select(Notice).where(Notice.kind == SESSION_CANCELLED)).all())
    assert count == 4


def test_away_closes_rest_for_booking(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """After the absence, slot search offers nothing with Dr Lee from 15:00 that day, and still offers earlier time."""
    leave(session_factory, day, "15:00", "12:30")

    with session_factory() as session:
        clinic = load_clinic(session)
        type_id = get_booking(session, day.references[1]).appointment_type_id
        slots = find_slots(
            session,
            clinic,
            appointment_type_id=type_id,
            now=at("12:30"),
            practitioner_id="lee",
            from_date=DAY,
            to_date=DAY,
            limit=50,
        )
    starts = [slot.starts_at for slot in slots]
    assert starts != []
    assert all(start < at("15:00") for start in starts)
    assert clinic.sessions_on("lee", DAY)[-1].end == time(15, 0)


@pytest.mark.parametrize(
    ("from_text", "expected"),
    [
        ("10:00", ["08:30-10:00", "13:30-17:00"]),
        ("12:45", ["08:30-12:30"]),
        ("08:00", ["13:30-17:00"]),
        ("08:30", ["13:30-17:00"]),
        ("17:00", ["08:30-12:30", "13:30-17:00"]),
    ],
)
def test_absence_cuts_its_session(from_text: str, expected: list[str]) -> None:
    """Only the session the absence falls in, or the next one after a break, loses time."""
    sessions = (ClinicSession(time(8, 30), time(12, 30)), ClinicSession(time(13, 30), time(17, 0)))

    remaining = sessions_before_absence(sessions, time.fromisoformat(from_text))

    assert [str(working) for working in remaining] == expected
