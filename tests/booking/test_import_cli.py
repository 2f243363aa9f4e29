"""`sealbook-admin import FILE` and `sealbook init --demo-clinic` from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from booking import load_clinic
from booking.clinic import OverrideKind
from booking.clinic_file import DEMO_CLINIC
from sealbook.settings import DATABASE_FILE
from storage import db
from storage.models.clinic import AppointmentTypeRow, ClinicRow, PractitionerRow, WeeklySessionRow

ADMIN = [sys.executable, "-c", "from admin_cli.app import main; main()"]
SEALBOOK = [sys.executable, "-c", "from sealbook.cli import main; main()"]
# Wed 2 Dec 2026 08:00 in Sydney.
NOW_TEXT = "2026-12-02T08:00:00+11:00"


def run(command: list[str], *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run a command with a clean SEALBOOK_* environment and a fixed start instant."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SEALBOOK_")}
    env["SEALBOOK_NOW"] = NOW_TEXT
    return subprocess.run(
        [*command, *args, "--home", str(home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def counts(home: Path) -> dict[str, int]:
    """Return row counts of the clinic tables in the home's database."""
    engine = db.make_engine(f"sqlite+pysqlite:///{home / DATABASE_FILE}")
    try:
        with engine.connect() as connection:
            return {
                model.__tablename__: connection.scalar(select(func.count()).select_from(model)) or 0
                for model in (ClinicRow, PractitionerRow, AppointmentTypeRow, WeeklySessionRow)
            }
    finally:
        engine.dispose()


def test_import_twice_never_duplicates(tmp_path: Path) -> None:
    """Importing the same file twice leaves one clinic and the same rows."""
    home = tmp_path / "home"
    assert run(SEALBOOK, "init", home=home).returncode == 0

    first = run(ADMIN, "import", str(DEMO_CLINIC), home=home)
    after_first = counts(home)
    second = run(ADMIN, "import", str(DEMO_CLINIC), home=home)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "clinic created" in first.stdout
    assert "clinic updated in place" in second.stdout
    assert after_first == {"clinics": 1, "practitioners": 3, "appointment_types": 4, "weekly_sessions": 27}
    assert counts(home) == after_first


def test_bad_file_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    """A clinic file with an impossible time fails with one plain line and no traceback."""
    home = tmp_path / "home"
    assert run(SEALBOOK, "init", "--demo-clinic", home=home).returncode == 0
    before = counts(home)
    broken = tmp_path / "clinic.toml"
    broken.write_text(
        DEMO_CLINIC.read_text(encoding="utf-8").replace('"13:30-16:00"', '"16:00-13:30"'), encoding="utf-8"
    )

    result = run(ADMIN, "import", str(broken), home=home)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("sealbook-admin: clinic.toml line 24, practitioners#1.hours.friday")
    )
    assert "ends before it starts" in result.stderr
    assert counts(home) == before


def test_init_demo_clinic_has_leave_next_week(tmp_path: Path) -> None:
    """`sealbook init --demo-clinic` loads the demo with Dr Lee on leave next Wednesday."""
    home = tmp_path / "home"
    result = run(SEALBOOK, "init", "--demo-clinic", home=home)
    assert result.returncode == 0, result.stderr
    assert "demo clinic loaded" in result.stdout

    engine = db.make_engine(f"sqlite+pysqlite:///{home / DATABASE_FILE}")
    try:
        with db.make_session_factory(engine)() as session:
            clinic = load_clinic(session)
    finally:
        engine.dispose()
    leave = [o for o in clinic.overrides if o.kind is OverrideKind.CLOSED and o.practitioner_id == "lee"]
    now = datetime.fromisoformat(NOW_TEXT).astimezone(UTC)
    assert [o.day for o in leave] == [now.astimezone(clinic.zone).date() + timedelta(days=7)]
    assert clinic.sessions_on("lee", leave[0].day) == ()
