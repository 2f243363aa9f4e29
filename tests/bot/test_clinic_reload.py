"""A running front picks up changes that staff make to the clinic's set-up without a restart."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.app import app as admin_app
from admin_cli.runner import run_admin
from booking.clinic_file import load_clinic_file
from booking.store import clinic_revision, import_clinic
from bot.console import run_console_chat
from bot.front import CurrentClinic
from sealbook.clock import FixedClock
from sealbook.settings import FrontSettings, load_settings
from storage import db
from storage.models.bookings import BookingRow

DEMO_CLINIC = Path(__file__).resolve().parents[2] / "booking" / "demo_clinic.toml"


def _run_admin(
    monkeypatch: pytest.MonkeyPatch, home: Path, db_url: str, clock: FixedClock, *args: str
) -> int:
    with monkeypatch.context() as scoped:
        for name in list(os.environ):
            if name.startswith("SEALBOOK_"):
                scoped.delenv(name)
        scoped.setenv("SEALBOOK_HOME", str(home))
        scoped.setenv("SEALBOOK_DATABASE_URL", db_url)
        scoped.setenv("SEALBOOK_NOW", clock.now().isoformat())
        scoped.setenv("SEALBOOK_OPERATOR", "reception")
        return run_admin(admin_app, list(args))


def test_leave_reaches_running_front(
    session_factory: sessionmaker[Session],
    db_url: str,
    clock: FixedClock,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Leave recorded while a front runs closes the day in the front's copy of the clinic."""
    with db.session_scope(session_factory) as session:
        import_clinic(session, load_clinic_file(DEMO_CLINIC, now=clock.now()), clock.now())
    current = CurrentClinic(session_factory)
    clinic = current.get()
    practitioner = clinic.practitioners[0].id
    day = next(
        clock.now().astimezone(clinic.zone).date() + timedelta(days=offset)
        for offset in range(7, 21)
        if clinic.sessions_on(
            practitioner, clock.now().astimezone(clinic.zone).date() + timedelta(days=offset)
        )
    )

    code = _run_admin(monkeypatch, home, db_url, clock, "leave", practitioner, day.isoformat(), "--yes")

    assert code == 0
    assert clinic.sessions_on(practitioner, day) != ()
    assert current.get().sessions_on(practitioner, day) == ()
    assert current.get() is current.get()


def test_import_raises_revision(session_factory: sessionmaker[Session], clock: FixedClock) -> None:
    """Each import raises the clinic's revision, so a front reloads after it."""
    parsed = load_clinic_file(DEMO_CLINIC, now=clock.now())
    revisions = []
    for _ in range(2):
        with db.session_scope(session_factory) as session:
            import_clinic(session, parsed, clock.now())
        with session_factory() as session:
            revisions.append(clinic_revision(session))

    assert revisions == [1, 2]


class LinesWithChange(io.StringIO):
    """Standard input for the console that runs `change` just before the line at index `before` is read."""

    def __init__(self, lines: list[str], before: int, change: Callable[[], None]) -> None:
        super().__init__("".join(line + "\n" for line in lines))
        self._before = before
        self._change = change
        self._read = 0

    # typeshed marks StringIO.readline the same way: it narrows the bytes-based base class.
    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]
        if self._read == self._before:
            self._change()
        self._read += 1
        return super().readline(size)


def test_console_day_closed_mid_chat(
    session_factory: sessionmaker[Session],
    db_url: str,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Leave recorded after the console offered times on that day: the pick is not booked, the day not offered again."""
    clock = FixedClock(datetime.fromisoformat("2026-12-07T07:00:00+11:00"))
    with db.session_scope(session_factory) as session:
        import_clinic(session, load_clinic_file(DEMO_CLINIC, now=clock.now()), clock.now())
    monkeypatch.setenv("SEALBOOK_DATABASE_URL", db_url)
    settings = load_settings(FrontSettings, home)
    output = io.StringIO()
    leave_codes: list[int] = []

    def record_leave() -> None:
        leave_codes.append(
            _run_admin(monkeypatch, home, db_url, clock, "leave", "nair", "2026-12-09", "--yes")
        )

    search = "standard with dr nair on 9/12"
    # The leave is recorded after the times are offered and before the patient picks one.
    lines = LinesWithChange([search, "1", "Y", search], before=1, change=record_leave)

    run_console_chat(settings, "0491 570 601", lines, output, clock=clock)

    transcript = output.getvalue()
    first_offer, _, after_first_search = transcript.partition(f"you> {search}\n")[2].partition("you> 1\n")
    second_offer = after_first_search.rpartition(f"you> {search}\n")[2]
    assert leave_codes == [0]
    assert "1) Wed 9 Dec 8am" in first_offer
    assert "Book it?" in after_first_search
    assert "Booked." not in transcript
    assert "Nothing is free on Wed 9 Dec" in second_offer
    assert re.search(r"\d\) Wed 9 Dec", second_offer) is None
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(BookingRow)) == 0
