"""``sealbook late-tick``: recompute every practitioner's running-late projection once a minute.

An overrunning consult makes everyone after it later as time passes, with no
event at all, so something must recompute the projection on a clock. One
tick process per deployment is enough. A second one is harmless, because
each practitioner's recompute runs under a lock and every notice step is
unique in the database.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from booking.late import tick
from sealbook.cli_support import HomeOption
from sealbook.clock import Clock, clock_from_env
from sealbook.logs import configure_logging
from sealbook.settings import CommonSettings, load_settings
from storage import db

logger = logging.getLogger(__name__)

TICK_SECONDS = 60


def late_tick(
    home: HomeOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Recompute once and exit, instead of every minute.")
    ] = False,
) -> None:
    """Recompute running-late projections and queue notices, once a minute until stopped."""
    settings = load_settings(CommonSettings, home)
    configure_logging(settings.log_level)
    engine = db.make_engine(settings.effective_database_url)
    db.check_connection(engine)
    stop = threading.Event()
    if not once:
        _stop_on_signals(stop)
    try:
        run_ticks(db.make_session_factory(engine), clock_from_env(), once=once, stop=stop)
    finally:
        engine.dispose()


def run_ticks(factory: sessionmaker[Session], clock: Clock, *, once: bool, stop: threading.Event) -> int:
    """Tick at the start of every clock minute until ``stop`` is set; return how many ticks ran."""
    logger.info("running-late tick started")
    ticks = 0
    while not stop.is_set():
        report = tick(factory, clock.now())
        ticks += 1
        if once:
            typer.echo(f"recomputed {report.days} practitioner days; queued {report.notices} notices")
            break
        if report.notices:
            logger.info("tick queued %d notices over %d practitioner days", report.notices, report.days)
        seconds_into_minute = clock.now().timestamp() % TICK_SECONDS
        stop.wait(TICK_SECONDS - seconds_into_minute)
    logger.info("running-late tick stopped after %d ticks", ticks)
    return ticks


def _stop_on_signals(stop: threading.Event) -> None:
    def request_stop(signal_number: int, _frame: FrameType | None) -> None:
        logger.info("signal %d received; stopping after this tick", signal_number)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
