"""Concurrent changes: cancel, move and visit steps racing each other, and bookings racing leave.

Each test holds the first change open in one session, starts the second in
a thread with its own connection, waits until that thread is blocked on
the database (on PostgreSQL, until `pg_stat_activity` shows it waiting for
a lock), then commits the first. Afterwards the cells must match the
bookings exactly (`booking.claims.cell_problems`).
"""

from __future__ import annotations

import logging
import threading
import time as timer
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from booking import BookingStatus, book, cancel, check_in, day_bookings, get_booking, load_clinic, move
from booking.claims import cell_problems
from booking.clinic import Clinic
from booking.errors import DayHasBookings, InvalidTransition, OutsideWorkingHours, SlotTaken
from booking.late_away import AwayOutcome, declare_away
from booking.store import add_staff_override, clinic_revision, import_clinic
from storage import db
from storage.models.bookings import BookingCellRow

Factory = sessionmaker[Session]
SYDNEY = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # Wed 2 Dec 2026 08:00 AEDT
THURSDAY = date(2026, 12, 3)
STAFF = "staff:Reception"
BLOCK_WAIT_SECONDS = 5.0
# SQLite shows no waiting writer, so the test gives the thread this long to
# reach BEGIN IMMEDIATE, where it waits for the first transaction.
SQLITE_SETTLE_SECONDS = 0.3


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a Sydney wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=SYDNEY).astimezone(UTC)


@pytest.fixture
def race_engine(db_url: str, engine: Engine) -> Iterator[Engine]:
    """Yield a second engine on the migrated database, so each thread has its own connection."""
    made = db.make_engine(db_url, pool_size=4, max_overflow=0)
    yield made
    made.dispose()


def book_at(factory: Factory, clinic: Clinic, contact_id: int, starts_at: datetime) -> str:
    """Book a standard appointment with Dr Lee in its own transaction and return the reference."""
    with factory() as session, session.begin():
        view = book(
            session,
            clinic,
            contact_id=contact_id,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=starts_at,
            now=NOW,
            actor="patient",
        )
    return view.reference


def wait_until_blocked(engine: Engine, pid: int | None, worker: threading.Thread) -> None:
    """Return once the worker waits on a lock (PostgreSQL) or has had time to reach one (SQLite)."""
    if pid is None:
        timer.sleep(SQLITE_SETTLE_SECONDS)
        return
    deadline = timer.monotonic() + BLOCK_WAIT_SECONDS
    with engine.connect() as connection:
        while worker.is_alive() and timer.monotonic() < deadline:
            waiting = connection.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
            connection.commit()
            if waiting == "Lock":
                return
            timer.sleep(0.02)


def race_second_against_open_first(
    factory: Factory,
    engine: Engine,
    first: Callable[[Session], object],
    second: Callable[[Session], object],
) -> object:
    """Run `first` uncommitted, start `second` in a thread, commit `first` once `second` waits.

    Returns what `second` returned, or the exception it raised.
    """
    outcome: dict[str, object] = {}
    started = threading.Event()
    pid: list[int | None] = [None]

    def run_second() -> None:
        try:
            with factory() as session, session.begin():
                if engine.dialect.name == "postgresql":
                    pid[0] = session.scalar(text("SELECT pg_backend_pid()"))
                started.set()
                outcome["result"] = second(session)
        except Exception as error:  # noqa: BLE001 - the test asserts on whatever happened
            outcome["result"] = error
        finally:
            started.set()

    with factory() as session, session.begin():
        first(session)
        worker = threading.Thread(target=run_second)
        worker.start()
        assert started.wait(BLOCK_WAIT_SECONDS)
        wait_until_blocked(engine, pid[0], worker)
    worker.join(timeout=30)
    assert not worker.is_alive()
    return outcome["result"]


def assert_cells_consistent(factory: Factory) -> None:
    """Assert that every booking holds exactly the cells its status and time call for."""
    with factory() as session:
        assert cell_problems(session) == []


def test_check_in_waits_for_cancel(
    race_engine: Engine, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A check-in racing a cancel sees the cancel, so the freed time can be booked once."""
    first_contact, second_contact = add_contacts(2)
    factory = db.make_session_factory(race_engine)
    reference = book_at(factory, stored_clinic, first_contact, at(THURSDAY, 10))

    result = race_second_against_open_first(
        factory,
        race_engine,
        lambda s: cancel(s, stored_clinic, reference=reference, contact_id=None, now=NOW, actor=STAFF),
        lambda s: check_in(s, reference=reference, now=at(THURSDAY, 9, 50), actor=STAFF),
    )

    assert isinstance(result, InvalidTransition)
    with factory() as session:
        assert get_booking(session, reference).status is BookingStatus.CANCELLED
    book_at(factory, stored_clinic, second_contact, at(THURSDAY, 10))
    assert_cells_consistent(factory)


def test_move_waits_for_cancel(
    race_engine: Engine, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A move racing a cancel of the same booking fails, and the cancelled booking holds no time."""
    (contact,) = add_contacts(1)
    factory = db.make_session_factory(race_engine)
    reference = book_at(factory, stored_clinic, contact, at(THURSDAY, 10))

    result = race_second_against_open_first(
        factory,
        race_engine,
        lambda s: cancel(s, stored_clinic, reference=reference, contact_id=contact, now=NOW, actor="patient"),
        lambda s: move(
            s,
            stored_clinic,
            reference=reference,
            contact_id=contact,
            starts_at=at(THURSDAY, 15),
            now=NOW,
            actor="patient",
        ),
    )

    assert isinstance(result, InvalidTransition)
    with factory() as session:
        assert get_booking(session, reference).status is BookingStatus.CANCELLED
        held = session.scalar(select(func.count()).select_from(BookingCellRow))
    assert held == 0
    assert_cells_consistent(factory)


def test_two_moves_apply_in_turn(
    race_engine: Engine, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """Two moves of one booking apply one after the other, and only the last time stays held."""
    (contact,) = add_contacts(1)
    factory = db.make_session_factory(race_engine)
    reference = book_at(factory, stored_clinic, contact, at(THURSDAY, 10))

    def move_to(starts_at: datetime) -> Callable[[Session], object]:
        return lambda s: move(
            s,
            stored_clinic,
            reference=reference,
            contact_id=contact,
            starts_at=starts_at,
            now=NOW,
            actor="patient",
        )

    result = race_second_against_open_first(
        factory, race_engine, move_to(at(THURSDAY, 13)), move_to(at(THURSDAY, 16))
    )

    assert not isinstance(result, Exception)
    with factory() as session:
        moved = get_booking(session, reference)
        held = session.scalar(select(func.count()).select_from(BookingCellRow))
    assert moved.starts_at == at(THURSDAY, 16)
    assert moved.moves == 2
    assert held == 3
    assert_cells_consistent(factory)


def test_swapping_moves_get_slot_taken(
    race_engine: Engine,
    stored_clinic: Clinic,
    add_contacts: Callable[[int], list[int]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two staff moves swapping two bookings deadlock on PostgreSQL; both get SlotTaken, nothing changes.

    Both threads release their own cells, then meet at a barrier before
    claiming the other's, so on PostgreSQL each claim waits for the other
    transaction and the server aborts one of them as a deadlock.
    """
    first_contact, second_contact = add_contacts(2)
    factory = db.make_session_factory(race_engine)
    nine, half_past = at(THURSDAY, 9), at(THURSDAY, 9, 30)
    first = book_at(factory, stored_clinic, first_contact, nine)
    second = book_at(factory, stored_clinic, second_contact, half_past)

    barrier = threading.Barrier(2)
    racing: set[threading.Thread] = set()

    def meet_before_claim(*args: Any) -> None:
        statement = args[2]
        if threading.current_thread() in racing and statement.startswith("INSERT INTO booking_cells"):
            racing.discard(threading.current_thread())
            barrier.wait(timeout=BLOCK_WAIT_SECONDS)

    outcomes: dict[str, object] = {}

    def run(reference: str, starts_at: datetime) -> None:
        try:
            with factory() as session, session.begin():
                outcomes[reference] = move(
                    session,
                    stored_clinic,
                    reference=reference,
                    contact_id=None,
                    starts_at=starts_at,
                    now=NOW,
                    actor=STAFF,
                )
        except Exception as error:  # noqa: BLE001 - the test asserts on whatever happened
            outcomes[reference] = error

    workers = [
        threading.Thread(target=run, args=(first, half_past)),
        threading.Thread(target=run, args=(second, nine)),
    ]
    if race_engine.dialect.name == "postgresql":
        racing.update(workers)
    event.listen(race_engine, "before_cursor_execute", meet_before_claim)
    caplog.set_level(logging.INFO, logger="booking.taken")
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
    finally:
        event.remove(race_engine, "before_cursor_execute", meet_before_claim)

    assert [type(outcomes[first]), type(outcomes[second])] == [SlotTaken, SlotTaken]
    if race_engine.dialect.name == "postgresql":
        lost = [r for r in caplog.records if "lost to a concurrent change" in r.getMessage()]
        assert len(lost) >= 1
    assert [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")] == []
    with factory() as session:
        assert get_booking(session, first).starts_at == nine
        assert get_booking(session, second).starts_at == half_past
    assert_cells_consistent(factory)


def test_cell_problems_reports_leftover_cells(
    session_factory: Factory, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """The consistency check names a cancelled booking that still holds cells."""
    (contact,) = add_contacts(1)
    reference = book_at(session_factory, stored_clinic, contact, at(THURSDAY, 10))
    with session_factory() as session, session.begin():
        view = get_booking(session, reference)
        session.execute(
            text("UPDATE bookings SET status = 'cancelled' WHERE id = :id"),
            {"id": view.id},
        )
    with session_factory() as session:
        problems = cell_problems(session)
    assert problems == [f"booking {reference} (cancelled) holds 3 cells, expected 0: 3 extra, 0 missing"]


def add_leave(session: Session, day: date) -> None:
    """Close Dr Lee's day in the caller's transaction, as `sealbook-admin leave` does."""
    add_staff_override(session, practitioner_id="lee", day=day, sessions=(), reason="leave")


def test_booking_waits_for_leave(
    race_engine: Engine, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A booking racing leave on its day raises, although the caller's clinic is from before the leave."""
    (contact,) = add_contacts(1)
    factory = db.make_session_factory(race_engine)

    result = race_second_against_open_first(
        factory,
        race_engine,
        lambda s: add_leave(s, THURSDAY),
        lambda s: book(
            s,
            stored_clinic,
            contact_id=contact,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=at(THURSDAY, 10),
            now=NOW,
            actor="patient",
        ),
    )

    assert isinstance(result, OutsideWorkingHours)
    with factory() as session:
        assert day_bookings(session, THURSDAY, "lee") == []


def test_leave_waits_for_booking(
    race_engine: Engine, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """Leave racing a booking on its day is refused, although its own check ran before the booking committed.

    The leave checks the day's bookings first, as `sealbook-admin leave`
    does. On PostgreSQL that check cannot see the open booking, so closing
    the day must wait for the booking and then find it. On SQLite the
    leave's transaction starts only once the booking has committed.
    """
    (contact,) = add_contacts(1)
    factory = db.make_session_factory(race_engine)

    def checked_leave(session: Session) -> str:
        if day_bookings(session, THURSDAY, "lee"):
            return "refused by the check"
        add_leave(session, THURSDAY)
        return "closed"

    result = race_second_against_open_first(
        factory,
        race_engine,
        lambda s: book(
            s,
            stored_clinic,
            contact_id=contact,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=at(THURSDAY, 10),
            now=NOW,
            actor="patient",
        ),
        checked_leave,
    )

    if race_engine.dialect.name == "postgresql":
        assert isinstance(result, DayHasBookings)
    else:
        assert result == "refused by the check"
    with factory() as session:
        assert load_clinic(session).sessions_on("lee", THURSDAY) != ()
        assert [view.status for view in day_bookings(session, THURSDAY, "lee")] == [BookingStatus.BOOKED]


def test_away_waits_for_booking(
    race_engine: Engine, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """An absence declared while a booking in it is still open cancels that booking once it commits."""
    (contact,) = add_contacts(1)
    factory = db.make_session_factory(race_engine)

    result = race_second_against_open_first(
        factory,
        race_engine,
        lambda s: book(
            s,
            stored_clinic,
            contact_id=contact,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=at(THURSDAY, 14),
            now=NOW,
            actor="patient",
        ),
        lambda s: declare_away(
            s,
            stored_clinic,
            practitioner_id="lee",
            from_time=time(13),
            local_date=THURSDAY,
            now=NOW,
            actor=STAFF,
        ),
    )

    assert isinstance(result, AwayOutcome)
    assert len(result.cancelled) == 1
    with factory() as session:
        statuses = [view.status for view in day_bookings(session, THURSDAY, "lee", include_cancelled=True)]
    assert statuses == [BookingStatus.CANCELLED]
    assert_cells_consistent(factory)


def test_booking_waits_for_away(
    race_engine: Engine, stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A booking racing an absence that covers its time raises, although the caller's clinic is older."""
    (contact,) = add_contacts(1)
    factory = db.make_session_factory(race_engine)

    result = race_second_against_open_first(
        factory,
        race_engine,
        lambda s: declare_away(
            s,
            stored_clinic,
            practitioner_id="lee",
            from_time=time(13),
            local_date=THURSDAY,
            now=NOW,
            actor=STAFF,
        ),
        lambda s: book(
            s,
            stored_clinic,
            contact_id=contact,
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=at(THURSDAY, 14),
            now=NOW,
            actor="patient",
        ),
    )

    assert isinstance(result, OutsideWorkingHours)
    with factory() as session:
        assert day_bookings(session, THURSDAY, "lee") == []


def test_import_counts_after_leave(
    race_engine: Engine, stored_clinic: Clinic, make_clinic: Callable[..., Clinic]
) -> None:
    """An import racing leave raises the clinic's revision on top of the leave's, so fronts reload after both."""
    factory = db.make_session_factory(race_engine)
    with factory() as session:
        before = clinic_revision(session)
    assert before is not None

    result = race_second_against_open_first(
        factory,
        race_engine,
        lambda s: add_leave(s, THURSDAY),
        lambda s: import_clinic(s, make_clinic(), NOW),
    )

    assert not isinstance(result, Exception)
    with factory() as session:
        assert clinic_revision(session) == before + 2
