"""Tests of the visit steps: check-in, consult start and finish, no-show, with FHIR statuses."""

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
    cancel,
    check_in,
    finish_consult,
    mark_no_show,
    move,
    start_consult,
)
from booking.claims import cell_problems
from booking.clinic import Clinic
from booking.errors import InvalidTransition, InvalidVisitTime
from booking.status import FHIR_APPOINTMENT_STATUS
from storage.models.audit import AuditEntry
from storage.models.bookings import BookingCellRow

Factory = sessionmaker[Session]
SYDNEY = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
STARTS = datetime.combine(date(2026, 12, 3), time(10, 0), tzinfo=SYDNEY).astimezone(UTC)
STAFF = "staff:Reception"
THURSDAY_MIDNIGHT = datetime.combine(date(2026, 12, 3), time(0, 0), tzinfo=SYDNEY).astimezone(UTC)
Snapshot = Callable[[], dict[str, list[tuple[object, ...]]]]


@pytest.fixture
def reference(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> str:
    """Return the reference of a standard booking with Dr Lee on Thursday at 10:00."""
    (contact,) = add_contacts(1)
    with session_factory() as session, session.begin():
        view = book(
            session,
            stored_clinic,
            contact_id=contact,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=STARTS,
            now=NOW,
            actor="patient",
        )
    return view.reference


def test_fhir_mapping_is_one_to_one() -> None:
    """Every status maps to its own FHIR Appointment status code."""
    assert {status.value: status.fhir for status in BookingStatus} == {
        "booked": "booked",
        "cancelled": "cancelled",
        "arrived": "arrived",
        "fulfilled": "fulfilled",
        "noshow": "noshow",
    }
    assert len(set(FHIR_APPOINTMENT_STATUS.values())) == len(BookingStatus)


def test_visit_from_check_in_to_fulfilled(session_factory: Factory, reference: str) -> None:
    """Check-in, consult start and finish stamp their times and end fulfilled."""
    arrived_at = STARTS - timedelta(minutes=10)
    with session_factory() as session, session.begin():
        arrived = check_in(session, reference=reference, now=arrived_at, actor=STAFF)
        started = start_consult(session, reference=reference, now=STARTS + timedelta(minutes=5), actor=STAFF)
        finished = finish_consult(
            session, reference=reference, now=STARTS + timedelta(minutes=22), actor=STAFF
        )
    assert arrived.fhir_status == "arrived"
    assert arrived.checked_in_at == arrived_at
    assert started.status is BookingStatus.ARRIVED
    assert started.consult_started_at == STARTS + timedelta(minutes=5)
    assert finished.status is BookingStatus.FULFILLED
    assert finished.consult_finished_at == STARTS + timedelta(minutes=22)
    assert finished.checked_in_at == arrived_at
    with session_factory() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions[-3:] == ["check_in", "start_consult", "finish_consult"]


def test_start_consult_checks_in_too(session_factory: Factory, reference: str) -> None:
    """Starting the consult of a patient not checked in checks them in at the same time."""
    with session_factory() as session, session.begin():
        started = start_consult(session, reference=reference, now=STARTS, actor=STAFF)
    assert started.checked_in_at == STARTS
    assert started.status is BookingStatus.ARRIVED


def test_no_show_only_after_start(session_factory: Factory, reference: str) -> None:
    """A no-show can be marked once the start has passed, not before."""
    with session_factory() as session, pytest.raises(InvalidTransition):
        mark_no_show(session, reference=reference, now=STARTS - timedelta(minutes=1), actor=STAFF)
    with session_factory() as session, session.begin():
        view = mark_no_show(session, reference=reference, now=STARTS + timedelta(minutes=20), actor=STAFF)
    assert view.fhir_status == "noshow"
    assert view.no_show_at == STARTS + timedelta(minutes=20)


@pytest.mark.parametrize(
    ("steps", "failing"),
    [
        (["check_in"], "check_in"),
        ([], "finish_consult"),
        (["check_in"], "finish_consult"),
        (["start_consult"], "start_consult"),
        (["start_consult", "finish_consult"], "cancel"),
        (["check_in"], "move"),
        (["check_in"], "mark_no_show"),
    ],
)
def test_invalid_transitions(
    session_factory: Factory, stored_clinic: Clinic, reference: str, steps: list[str], failing: str
) -> None:
    """A step that the booking's status does not allow raises InvalidTransition and changes nothing."""
    actions: dict[str, Callable[[Session], object]] = {
        "check_in": lambda s: check_in(s, reference=reference, now=STARTS, actor=STAFF),
        "start_consult": lambda s: start_consult(s, reference=reference, now=STARTS, actor=STAFF),
        "finish_consult": lambda s: finish_consult(s, reference=reference, now=STARTS, actor=STAFF),
        "mark_no_show": lambda s: mark_no_show(s, reference=reference, now=STARTS, actor=STAFF),
        "cancel": lambda s: cancel(
            s, stored_clinic, reference=reference, contact_id=None, now=STARTS, actor=STAFF
        ),
        "move": lambda s: move(
            s,
            stored_clinic,
            reference=reference,
            contact_id=None,
            starts_at=STARTS + timedelta(days=1),
            now=STARTS,
            actor=STAFF,
        ),
    }
    for step in steps:
        with session_factory() as session, session.begin():
            actions[step](session)
    with session_factory() as session, session.begin(), pytest.raises(InvalidTransition) as caught:
        actions[failing](session)
    assert reference in str(caught.value)


def test_check_in_opens_on_appointment_day(session_factory: Factory, reference: str) -> None:
    """A check-in is accepted from local midnight of the appointment's day."""
    with session_factory() as session, session.begin():
        view = check_in(session, reference=reference, now=THURSDAY_MIDNIGHT, actor=STAFF)
    assert view.checked_in_at == THURSDAY_MIDNIGHT


@pytest.mark.parametrize(
    ("step", "early"),
    [
        (check_in, STARTS - timedelta(days=1)),
        (check_in, THURSDAY_MIDNIGHT - timedelta(minutes=1)),
        (start_consult, STARTS - timedelta(days=1)),
    ],
    ids=["check-in a day early", "check-in a minute before the day", "consult start a day early"],
)
def test_step_before_appointment_day_rejected(
    session_factory: Factory,
    reference: str,
    snapshot: Snapshot,
    step: Callable[..., object],
    early: datetime,
) -> None:
    """Check-in and consult start before the appointment's local day raise InvalidVisitTime."""
    before = snapshot()
    with session_factory() as session, session.begin(), pytest.raises(InvalidVisitTime) as caught:
        step(session, reference=reference, now=early, actor=STAFF)
    assert isinstance(caught.value, InvalidTransition)
    assert reference in str(caught.value)
    assert "Thu 3 Dec 2026 10:00" in str(caught.value)
    assert snapshot() == before


def test_finish_before_consult_start_rejected(
    session_factory: Factory, reference: str, snapshot: Snapshot
) -> None:
    """A consult cannot finish at a time before it started; the message names both times."""
    with session_factory() as session, session.begin():
        start_consult(session, reference=reference, now=STARTS, actor=STAFF)
    before = snapshot()
    with session_factory() as session, session.begin(), pytest.raises(InvalidVisitTime) as caught:
        finish_consult(session, reference=reference, now=STARTS - timedelta(minutes=5), actor=STAFF)
    assert "09:55" in str(caught.value)
    assert "10:00" in str(caught.value)
    assert snapshot() == before


@pytest.mark.parametrize("ending", ["finish_consult", "mark_no_show"])
def test_final_steps_free_the_time(session_factory: Factory, reference: str, ending: str) -> None:
    """A finished consult and a no-show hold no time cells afterwards, like a cancelled booking."""
    with session_factory() as session, session.begin():
        if ending == "finish_consult":
            start_consult(session, reference=reference, now=STARTS, actor=STAFF)
            finish_consult(session, reference=reference, now=STARTS + timedelta(minutes=10), actor=STAFF)
        else:
            mark_no_show(session, reference=reference, now=STARTS + timedelta(minutes=10), actor=STAFF)
    with session_factory() as session:
        held = session.scalar(select(func.count()).select_from(BookingCellRow))
        problems = cell_problems(session)
    assert held == 0
    assert problems == []
