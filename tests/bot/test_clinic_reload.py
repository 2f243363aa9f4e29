"""A running front sees changes that staff make to the clinic's set-up without a restart."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.app import app as admin_app
from admin_cli.runner import run_admin
from booking.clinic_file import load_clinic_file
from booking.store import clinic_revision, import_clinic
from bot.front import CurrentClinic
from sealbook.clock import FixedClock
from storage import db

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
