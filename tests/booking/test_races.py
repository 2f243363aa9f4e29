"""Concurrent confirmations for the same time: exactly one wins, the rest get SlotTaken.

Each thread has its own session and connection. On PostgreSQL the losers
wait on the winner's uncommitted cell rows and then hit the primary key;
on SQLite they queue on the database lock and hit it after the commit.
Either way the loser must see `SlotTaken` with fresh alternatives, never
a database error.
"""

from __future__ import annotations

import threading
import time as timer
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from booking import book, find_slots, get_booking, move
from booking.availability import Slot
from booking.clinic import Clinic
from booking.errors import SlotTaken
from storage import db
from storage.models.bookings import BookingCellRow, BookingRow

NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
THREADS = 20
ROUNDS = 50
# SQLite's BEGIN IMMEDIATE lets one writer in at a time, so every round
# there runs the same queue, and each takes about 0.7 s of busy-handler
# sleeps on two cores. PostgreSQL's rounds interleave differently each time.
SQLITE_ROUNDS = 10
WON = "won"

Attempt = Callable[[Session, int, int], object]
Outcome = str | BaseException


@pytest.fixture
def race_factory(engine: Engine, db_url: str) -> Iterator[sessionmaker[Session]]:
    """Yield a session factory whose pool gives every racing thread its own connection."""
    made = db.make_engine(db_url, pool_size=THREADS + 2, max_overflow=0)
    yield db.make_session_factory(made)
    made.dispose()


def run_race(
    factory: sessionmaker[Session], threads: int, rounds: int, attempt: Attempt
) -> list[list[Outcome]]:
    """Run `attempt` in `threads` threads released together each round; return the outcomes."""
    barrier = threading.Barrier(threads)
    outcomes: list[list[Outcome]] = [["not run"] * threads for _ in range(rounds)]

    def worker(index: int) -> None:
        for round_number in range(rounds):
            barrier.wait(timeout=60)
            try:
                with factory() as session, session.begin():
                    attempt(session, index, round_number)
                outcomes[round_number][index] = WON
            except BaseException as error:  # noqa: BLE001 - every outcome is recorded and checked
                outcomes[round_number][index] = error

    workers = [threading.Thread(target=worker, args=(index,)) for index in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    return outcomes


def check_round(outcomes: list[Outcome], claims: Callable[[int], tuple[datetime, datetime]]) -> None:
    """Assert one winner, and SlotTaken with alternatives clear of the winner's time for the rest.

    `claims` returns the interval that the thread with a given index tried to book.
    """
    assert outcomes.count(WON) == 1
    won_start, won_end = claims(outcomes.index(WON))
    losers = [outcome for outcome in outcomes if outcome != WON]
    assert [type(loser) for loser in losers] == [SlotTaken] * len(losers)
    for loser in losers:
        assert isinstance(loser, SlotTaken)
        assert loser.alternatives
        for slot in loser.alternatives:
            assert slot.ends_at <= won_start or slot.starts_at >= won_end


def same_claim(slot: Slot) -> Callable[[int], tuple[datetime, datetime]]:
    """Return a `claims` function for a round in which every thread claims `slot`."""

    def claim(_index: int) -> tuple[datetime, datetime]:
        return slot.starts_at, slot.ends_at

    return claim


def free_slots(factory: sessionmaker[Session], clinic: Clinic, type_id: str, count: int) -> list[Slot]:
    """Return the first `count` free slots with Dr Lee."""
    with factory() as session:
        return find_slots(
            session, clinic, appointment_type_id=type_id, practitioner_id="lee", now=NOW, limit=count
        )


def test_twenty_confirmations_one_winner(
    race_factory: sessionmaker[Session],
    stored_clinic: Clinic,
    add_contacts: Callable[[int], list[int]],
    db_url: str,
) -> None:
    """Twenty threads confirm the same slot, many rounds: exactly one booking per round."""
    rounds = SQLITE_ROUNDS if db_url.startswith("sqlite") else ROUNDS
    contacts = add_contacts(THREADS)
    slots = free_slots(race_factory, stored_clinic, "standard", rounds)

    def attempt(session: Session, index: int, round_number: int) -> object:
        return book(
            session,
            stored_clinic,
            contact_id=contacts[index],
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=slots[round_number].starts_at,
            now=NOW,
            actor="patient",
        )

    started = timer.monotonic()
    outcomes = run_race(race_factory, THREADS, rounds, attempt)
    elapsed = timer.monotonic() - started

    for round_number, round_outcomes in enumerate(outcomes):
        slot = slots[round_number]
        check_round(round_outcomes, same_claim(slot))
    with race_factory() as session:
        assert session.scalar(select(func.count()).select_from(BookingRow)) == rounds
        assert session.scalar(select(func.count()).select_from(BookingCellRow)) == rounds * 3
    # A bound that catches a hang, not a benchmark. On SQLite the queued
    # writers retry after sleeps of up to 100 ms (SQLite's default busy
    # handler), so a round takes around a second and more on a busy machine.
    assert elapsed < 150


def test_different_lengths_race(
    race_factory: sessionmaker[Session], stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """Long bookings at T race standard ones at T+15 minutes: only one of them can win."""
    contacts = add_contacts(THREADS)
    rounds = 10
    slots = free_slots(race_factory, stored_clinic, "long", 40)[::4][:rounds]

    def attempt(session: Session, index: int, round_number: int) -> object:
        long_turn = index % 2 == 0
        offset = timedelta(0) if long_turn else timedelta(minutes=15)
        return book(
            session,
            stored_clinic,
            contact_id=contacts[index],
            appointment_type_id="long" if long_turn else "standard",
            practitioner_id="lee",
            starts_at=slots[round_number].starts_at + offset,
            now=NOW,
            actor="patient",
        )

    outcomes = run_race(race_factory, THREADS, rounds, attempt)
    for round_number, round_outcomes in enumerate(outcomes):
        start = slots[round_number].starts_at

        def claim(index: int, start: datetime = start) -> tuple[datetime, datetime]:
            if index % 2 == 0:
                return start, start + timedelta(minutes=30)
            return start + timedelta(minutes=15), start + timedelta(minutes=30)

        check_round(round_outcomes, claim)


def test_move_races_new_booking(
    race_factory: sessionmaker[Session], stored_clinic: Clinic, add_contacts: Callable[[int], list[int]]
) -> None:
    """A move to a time races new bookings of it; the loser keeps what it had."""
    threads = 10
    rounds = 10
    contacts = add_contacts(threads)
    slots = free_slots(race_factory, stored_clinic, "standard", 2 * rounds)
    targets, homes = slots[::2], slots[1::2]
    references: list[str] = []
    with race_factory() as session, session.begin():
        for home in homes:
            view = book(
                session,
                stored_clinic,
                contact_id=contacts[0],
                appointment_type_id="standard",
                practitioner_id="lee",
                starts_at=home.starts_at,
                now=NOW,
                actor="patient",
            )
            references.append(view.reference)

    def attempt(session: Session, index: int, round_number: int) -> object:
        target = targets[round_number].starts_at
        if index == 0:
            return move(
                session,
                stored_clinic,
                reference=references[round_number],
                contact_id=None,
                starts_at=target,
                now=NOW,
                actor="staff:Reception",
            )
        return book(
            session,
            stored_clinic,
            contact_id=contacts[index],
            appointment_type_id="standard",
            practitioner_id="lee",
            starts_at=target,
            now=NOW,
            actor="patient",
        )

    outcomes = run_race(race_factory, threads, rounds, attempt)
    with race_factory() as session:
        for round_number, round_outcomes in enumerate(outcomes):
            target = targets[round_number]
            check_round(round_outcomes, same_claim(target))
            moved = get_booking(session, references[round_number])
            expected = targets[round_number] if round_outcomes[0] == WON else homes[round_number]
            assert moved.starts_at == expected.starts_at
            cells = session.scalar(
                select(func.count()).select_from(BookingCellRow).where(BookingCellRow.booking_id == moved.id)
            )
            assert cells == 3
