"""Read-only views of the projection for the staff tool and the patient's STATUS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from booking.errors import UnknownPractitioner
from booking.late_views import contact_bookings_today, practitioner_projections, projected_day
from booking.projection import Phase
from booking.views import bookings_for_contact, get_booking
from sealbook.clock import FixedClock
from tests.booking.late_db_driver import DatabaseDayDriver
from tests.booking.late_replay import DAY, Scenario, at, local_text

Factory = sessionmaker[Session]

MORNING = Scenario(
    name="morning",
    first_start="09:00",
    count=4,
    interval_minutes=15,
    duration_minutes=15,
    replay_from="08:00",
    replay_until="08:00",
)


@pytest.fixture
def day(session_factory: Factory) -> DatabaseDayDriver:
    """Return a morning of four bookings where the first consult started at 09:05 and is still going."""
    driver = DatabaseDayDriver(session_factory, MORNING)
    driver.start_consult(1, at("09:05"))
    return driver


def test_projected_day_fields(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """Each booking carries its expected start and delay: actual for the consult, projected for the rest."""
    with session_factory() as session:
        views = projected_day(session, DAY, now=at("09:30"))

    rows = [
        (
            view.reference,
            view.phase,
            local_text(view.expected_at) if view.expected_at else None,
            view.delay_minutes,
        )
        for view in views
    ]
    assert rows == [
        (day.references[1], Phase.IN_PROGRESS, "09:05", 5),
        (day.references[2], Phase.WAITING, "09:30", 15),
        (day.references[3], Phase.WAITING, "09:45", 15),
        (day.references[4], Phase.WAITING, "10:00", 15),
    ]


def test_projected_day_one_practitioner(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """Filtering by practitioner keeps theirs and rejects an unknown id."""
    with session_factory() as session:
        assert len(projected_day(session, DAY, "lee", now=at("09:30"))) == 4
        with pytest.raises(UnknownPractitioner):
            projected_day(session, DAY, "nobody", now=at("09:30"))


def test_contact_today_for_status(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """A patient's STATUS sees only their own booking today, with its expected start."""
    with session_factory() as session:
        contact_id = projected_day(session, DAY, now=at("09:30"))[2].booking.contact_id
        views = contact_bookings_today(session, contact_id, at("09:30"))

    assert [(view.reference, local_text(view.expected_at or at("00:00"))) for view in views] == [
        (day.references[3], "09:45")
    ]


def test_contact_today_excludes_other_days(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """On the day before, the patient's booking is not today's, so STATUS lists nothing."""
    with session_factory() as session:
        contact_id = projected_day(session, DAY, now=at("09:30"))[2].booking.contact_id
        views = contact_bookings_today(session, contact_id, at("09:30") - timedelta(days=1))

    assert views == []


def contact_of(session_factory: Factory, reference: str) -> int:
    """Return the contact row id that owns a booking."""
    with session_factory() as session:
        return get_booking(session, reference).contact_id


def test_contact_today_after_scheduled_end(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """A delayed patient asking after their booking's scheduled end still gets its expected start."""
    clock = FixedClock(at("09:10"))
    day.declare_late(45, clock.now())
    contact_id = contact_of(session_factory, day.references[2])
    clock.set(at("09:40"))  # The second booking was due to end at 09:30.

    with session_factory() as session:
        views = contact_bookings_today(session, contact_id, clock.now())

    assert [view.reference for view in views] == [day.references[2]]
    assert views[0].phase is Phase.WAITING
    assert local_text(views[0].expected_at or at("00:00")) == "10:00"
    assert views[0].delay_minutes == 45


def test_contact_today_consult_until_finished(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """A consult running past its scheduled end stays listed with its actual start until it finishes."""
    clock = FixedClock(at("09:40"))  # The first consult started at 09:05 and was due to end at 09:15.
    contact_id = contact_of(session_factory, day.references[1])

    with session_factory() as session:
        during = contact_bookings_today(session, contact_id, clock.now())
    clock.set(at("09:45"))
    day.finish_consult(1, clock.now())
    clock.advance(timedelta(minutes=1))
    with session_factory() as session:
        after = contact_bookings_today(session, contact_id, clock.now())

    assert [view.reference for view in during] == [day.references[1]]
    assert during[0].phase is Phase.IN_PROGRESS
    assert local_text(during[0].expected_at or at("00:00")) == "09:05"
    assert after == []


def test_contact_unseen_booking_until_day_ends(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """A booking never seen and never marked a no-show is listed until local midnight, not after."""
    contact_id = contact_of(session_factory, day.references[4])
    clock = FixedClock(at("23:59"))

    with session_factory() as session:
        late_evening = bookings_for_contact(session, contact_id, clock.now())
    clock.advance(timedelta(minutes=1))
    with session_factory() as session:
        next_day = bookings_for_contact(session, contact_id, clock.now())

    assert [view.reference for view in late_evening] == [day.references[4]]
    assert next_day == []


def test_practitioner_projections_for_board(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """The board's view lists each practitioner with bookings that day and their current delay."""
    with session_factory() as session:
        projections = practitioner_projections(session, DAY, at("09:30"))

    assert [(item.practitioner_id, item.practitioner_name) for item in projections] == [("lee", "Dr Lee")]
    assert projections[0].projection.current_delay_minutes == 15
