"""Running-late events through the database: declarations, visit steps, the tick and their notices."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from booking import cancel, late, move
from booking.clinic import Clinic
from booking.errors import InvalidTransition, UnknownPractitioner
from booking.late import DeclarationError
from booking.late_away import declare_away
from booking.late_notices import RUNNING_LATE, running_late_notice_applies
from storage import db
from storage.audit import verify_audit
from storage.models.audit import AuditEntry
from storage.models.delays import DelayDeclaration, LateNoticeStep
from storage.models.outbox import Notice
from tests.booking.late_db_driver import STAFF, DatabaseDayDriver
from tests.booking.late_replay import DAY, Scenario, at

Factory = sessionmaker[Session]
Snapshot = Callable[[], dict[str, list[tuple[object, ...]]]]

# Eight 15-minute bookings from 09:00, back to back.
MORNING = Scenario(
    name="morning",
    first_start="09:00",
    count=8,
    interval_minutes=15,
    duration_minutes=15,
    replay_from="08:00",
    replay_until="08:00",
)


@pytest.fixture
def day(session_factory: Factory) -> DatabaseDayDriver:
    """Return a driver over the morning's eight bookings with Dr Lee."""
    return DatabaseDayDriver(session_factory, MORNING)


def late_notices(factory: Factory) -> list[Notice]:
    """Return every running-late notice in the outbox, oldest first."""
    with factory() as session:
        return list(session.scalars(select(Notice).where(Notice.kind == RUNNING_LATE).order_by(Notice.id)))


def declare(factory: Factory, clinic: Clinic, minutes: int, clock_text: str, local_date: date = DAY) -> None:
    """Declare Dr Lee ``minutes`` late at a local time of the scenario day."""
    with db.session_scope(factory) as session:
        late.declare_late(
            session,
            clinic,
            practitioner_id="lee",
            minutes=minutes,
            local_date=local_date,
            now=at(clock_text),
            actor=STAFF,
        )


def test_declared_delay_queues_notices(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """A 40-minute declaration queues one notice per booking, soonest first, with what the patient needs."""
    declare(session_factory, day.clinic, 40, "08:00")

    notices = late_notices(session_factory)
    assert [notice.reference for notice in notices] == [day.references[n] for n in range(1, 9)]
    first = notices[0]
    assert first.priority_at == at("09:00")
    assert first.due_at == at("08:00")
    assert first.dedupe_key == f"running_late:{first.booking_id}:0:30"
    assert first.params["reference"] == day.references[1]
    assert first.params["scheduled_time_local"] == "09:00"
    assert first.params["expected_time_local"] == "09:40"
    assert first.params["delay_minutes"] == 40
    assert first.params["practitioner_name"] == "Dr Lee"
    assert first.params["change_hint"] == "To move or cancel, reply MENU or call 02 9000 0000."
    assert [notice.priority_at for notice in notices] == sorted(notice.priority_at for notice in notices)


def test_declaration_is_audited(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """A declaration is stored with its operator and appended to the audit chain."""
    declare(session_factory, day.clinic, 40, "08:00")

    with session_factory() as session:
        declaration = session.scalars(select(DelayDeclaration)).one()
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "declare_late")).one()
        check = verify_audit(session)
    assert (declaration.kind, declaration.late_minutes, declaration.actor) == ("late", 40, STAFF)
    assert entry.actor == STAFF
    assert entry.detail == "practitioner=lee date=2027-03-10 minutes=40 remaining=8 notices=8"
    assert check.first_bad_seq is None


def test_back_on_time_notifies_once(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """Declaring 0 tells each patient who heard of the delay, once, and repeating it sends nothing."""
    declare(session_factory, day.clinic, 40, "08:00")
    declare(session_factory, day.clinic, 0, "08:10")
    declare(session_factory, day.clinic, 0, "08:20")

    steps = [notice.params["step"] for notice in late_notices(session_factory)]
    assert steps == [30] * 8 + [0] * 8


def test_checked_in_patient_not_notified(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """A patient checked in before the delay is declared gets no notice."""
    day.check_in(1, at("08:50"))
    declare(session_factory, day.clinic, 45, "08:55")

    references = {notice.reference for notice in late_notices(session_factory)}
    assert day.references[1] not in references
    assert len(references) == 7


def test_tick_notifies_as_consult_overruns(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """With no event at all, the tick notices the first consult running 30 minutes over."""
    day.check_in(1, at("08:55"))
    day.start_consult(1, at("09:00"))

    day.tick(at("09:44"))
    assert late_notices(session_factory) == []
    day.tick(at("09:45"))

    notices = late_notices(session_factory)
    assert [notice.reference for notice in notices] == [day.references[n] for n in range(2, 9)]
    assert notices[0].params["expected_time_local"] == "09:45"


def test_no_show_shortens_delay(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """Marking a no-show takes its time out of the sequence, so later patients hear of the shorter delay.

    At 09:50 the first consult has run 35 minutes over, so booking 3 (09:30)
    is expected at 10:05. When booking 2 is marked a no-show at 09:51,
    booking 3 moves up to 09:51, 21 minutes late: under the threshold.
    """
    day.check_in(1, at("08:55"))
    day.start_consult(1, at("09:00"))
    day.tick(at("09:50"))
    with db.session_scope(session_factory) as session:
        late.mark_no_show(session, day.clinic, reference=day.references[2], now=at("09:51"), actor=STAFF)

    third = [
        notice.params for notice in late_notices(session_factory) if notice.reference == day.references[3]
    ]
    assert [(params["step"], params["expected_time_local"]) for params in third] == [
        (30, "10:05"),
        (0, "09:51"),
    ]


def test_moved_booking_starts_afresh(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """A booking moved after a notice can be notified at the same step again, under a new key."""
    declare(session_factory, day.clinic, 30, "08:00")
    with db.session_scope(session_factory) as session:
        move(
            session,
            day.clinic,
            reference=day.references[8],
            contact_id=None,
            starts_at=at("11:00"),
            now=at("08:01"),
            actor=STAFF,
        )
    declare(session_factory, day.clinic, 30, "08:02")

    keys = [
        notice.dedupe_key for notice in late_notices(session_factory) if notice.reference == day.references[8]
    ]
    assert len(keys) == 2
    assert keys[0] is not None
    assert keys[1] == keys[0].replace(":0:30", ":1:30")


@pytest.mark.parametrize("minutes", [-1, 721])
def test_bad_minutes_change_nothing(
    session_factory: Factory, day: DatabaseDayDriver, snapshot: Snapshot, minutes: int
) -> None:
    """A negative or absurd delay is rejected with a plain message and nothing written."""
    before = snapshot()
    with pytest.raises(DeclarationError, match="0 to 720 minutes"):
        declare(session_factory, day.clinic, minutes, "08:00")

    assert snapshot() == before


def test_past_date_rejected(session_factory: Factory, day: DatabaseDayDriver, snapshot: Snapshot) -> None:
    """A declaration for a day already over is rejected and writes nothing."""
    before = snapshot()
    with pytest.raises(DeclarationError, match="has already passed"):
        declare(session_factory, day.clinic, 20, "08:00", local_date=DAY - timedelta(days=1))

    assert snapshot() == before


def test_unknown_practitioner_rejected(
    session_factory: Factory, day: DatabaseDayDriver, snapshot: Snapshot
) -> None:
    """A practitioner id that does not exist is named in the error and nothing is written."""
    before = snapshot()
    with pytest.raises(UnknownPractitioner, match="'nobody'"), db.session_scope(session_factory) as session:
        late.declare_late(
            session,
            day.clinic,
            practitioner_id="nobody",
            minutes=20,
            local_date=DAY,
            now=at("08:00"),
            actor=STAFF,
        )

    assert snapshot() == before


def test_failed_visit_step_queues_nothing(
    session_factory: Factory, day: DatabaseDayDriver, snapshot: Snapshot
) -> None:
    """Finishing a consult that never started raises, and the transaction leaves no trace."""
    declare(session_factory, day.clinic, 40, "08:00")
    before = snapshot()
    with pytest.raises(InvalidTransition):
        day.finish_consult(2, at("08:30"))

    assert snapshot() == before


def test_rollback_takes_notices_and_steps(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """A transaction that fails after the recompute leaves no notice, step or declaration behind."""
    with pytest.raises(RuntimeError), db.session_scope(session_factory) as session:
        late.declare_late(
            session,
            day.clinic,
            practitioner_id="lee",
            minutes=40,
            local_date=DAY,
            now=at("08:00"),
            actor=STAFF,
        )
        raise RuntimeError("the caller failed after declaring")

    with session_factory() as session:
        counts = [
            session.scalar(select(func.count()).select_from(model))
            for model in (LateNoticeStep, DelayDeclaration)
        ]
    assert late_notices(session_factory) == []
    assert counts == [0, 0]


def test_concurrent_ticks_notify_once(session_factory: Factory, day: DatabaseDayDriver) -> None:
    """Eight ticks racing over the same overrun queue each patient's notice exactly once."""
    day.check_in(1, at("08:55"))
    day.start_consult(1, at("09:00"))
    reports: list[late.TickReport] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        barrier.wait()
        reports.append(late.tick(session_factory, at("09:50"), day.clinic))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [report.days for report in reports] == [1] * 8
    assert sum(report.notices for report in reports) == 7
    assert len(late_notices(session_factory)) == 7


@pytest.mark.parametrize("change", ["check_in", "cancel", "move"])
def test_stale_notice_rejected_at_delivery(
    session_factory: Factory, day: DatabaseDayDriver, change: str
) -> None:
    """A notice whose booking was checked in, cancelled or moved after it was queued no longer applies."""
    declare(session_factory, day.clinic, 40, "08:00")
    notice = next(n for n in late_notices(session_factory) if n.reference == day.references[5])
    with session_factory() as session:
        assert running_late_notice_applies(session, notice) is True

    with db.session_scope(session_factory) as session:
        if change == "check_in":
            late.check_in(session, day.clinic, reference=day.references[5], now=at("08:30"), actor=STAFF)
        elif change == "cancel":
            cancel(
                session,
                day.clinic,
                reference=day.references[5],
                contact_id=None,
                now=at("08:30"),
                actor=STAFF,
            )
        else:
            move(
                session,
                day.clinic,
                reference=day.references[5],
                contact_id=None,
                starts_at=at("11:00"),
                now=at("08:30"),
                actor=STAFF,
            )

    with session_factory() as session:
        assert running_late_notice_applies(session, notice) is False


def test_away_time_outside_sessions_rejected(
    session_factory: Factory, day: DatabaseDayDriver, snapshot: Snapshot
) -> None:
    """Leaving after the last session of the day is rejected with the time in the message."""
    before = snapshot()
    with (
        pytest.raises(DeclarationError, match="no working session at or after 18:30"),
        db.session_scope(session_factory) as session,
    ):
        declare_away(
            session,
            day.clinic,
            practitioner_id="lee",
            from_time=time(18, 30),
            local_date=DAY,
            now=at("08:00"),
            actor=STAFF,
        )

    assert snapshot() == before
