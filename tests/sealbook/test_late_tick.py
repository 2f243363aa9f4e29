"""`sealbook late-tick`: one recompute with --once, and a loop that stops when told."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from booking.late_notices import RUNNING_LATE
from sealbook.cli import app
from sealbook.cli_support import run_app
from sealbook.late_tick_cmd import run_ticks
from storage.models.outbox import Notice
from tests.booking.late_db_driver import DatabaseDayDriver
from tests.booking.late_replay import Scenario, at

Factory = sessionmaker[Session]

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
def overrun(session_factory: Factory) -> DatabaseDayDriver:
    """Return a morning whose first consult started at 09:00 and has not finished."""
    driver = DatabaseDayDriver(session_factory, MORNING)
    driver.start_consult(1, at("09:00"))
    return driver


def late_count(factory: Factory) -> int:
    """Return how many running-late notices are queued."""
    with factory() as session:
        return len(session.scalars(select(Notice.id).where(Notice.kind == RUNNING_LATE)).all())


def test_once_recomputes_and_exits(
    db_url: str,
    session_factory: Factory,
    overrun: DatabaseDayDriver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """At 09:45 the first consult is 30 minutes over; one tick queues the seven waiting patients' notices."""
    monkeypatch.delenv("SEALBOOK_HOME", raising=False)
    monkeypatch.setenv("SEALBOOK_DATABASE_URL", db_url)
    monkeypatch.setenv("SEALBOOK_NOW", at("09:45").isoformat())
    handlers, level = logging.root.handlers[:], logging.root.level
    try:
        code = run_app(app, "sealbook", ["late-tick", "--once"])
    finally:
        logging.root.handlers[:] = handlers
        logging.root.setLevel(level)

    assert code == 0
    assert capsys.readouterr().out == "recomputed 1 practitioner days; queued 7 notices\n"
    assert late_count(session_factory) == 7


class StopAfterCalls:
    """A fixed clock that sets ``stop`` once it has been read ``calls`` times."""

    def __init__(self, instant: datetime, stop: threading.Event, calls: int) -> None:
        self._instant = instant
        self._stop = stop
        self._left = calls

    def now(self) -> datetime:
        self._left -= 1
        if self._left <= 0:
            self._stop.set()
        return self._instant


def test_loop_stops_when_told(session_factory: Factory, overrun: DatabaseDayDriver) -> None:
    """The loop finishes the tick in hand and stops as soon as it is told, without waiting a minute."""
    stop = threading.Event()
    # One read for the tick itself and one for the wait that follows it.
    clock = StopAfterCalls(at("09:45"), stop, calls=2)

    ticks = run_ticks(session_factory, clock, once=False, stop=stop)

    assert ticks == 1
    assert late_count(session_factory) == 7
