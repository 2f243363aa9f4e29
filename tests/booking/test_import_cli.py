"""`sealbook-admin import FILE` and `sealbook init --demo-clinic` from the command line."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from admin_cli.app import app as admin_app
from admin_cli.runner import run_admin
from booking import load_clinic
from booking.clinic import OverrideKind
from booking.clinic_file import DEMO_CLINIC
from sealbook.cli import app as sealbook_app
from sealbook.cli_support import run_app
from sealbook.settings import DATABASE_FILE
from storage import db
from storage.models.clinic import AppointmentTypeRow, ClinicRow, PractitionerRow, WeeklySessionRow
from tests.conftest import CommandEntry, InProcessRunner

# Wed 2 Dec 2026 08:00 in Sydney.
NOW_TEXT = "2026-12-02T08:00:00+11:00"


def admin_main(argv: list[str]) -> int:
    """Run ``sealbook-admin`` on ``argv``."""
    return run_admin(admin_app, argv)


def sealbook_main(argv: list[str]) -> int:
    """Run ``sealbook`` on ``argv``."""
    return run_app(sealbook_app, "sealbook", argv)


def run(
    run_in_process: InProcessRunner, command: CommandEntry, *args: str, home: Path
) -> subprocess.CompletedProcess[str]:
    """Run a command in this process with a clean SEALBOOK_* environment and a fixed start instant."""
    return run_in_process(command, [*args, "--home", str(home)], {"SEALBOOK_NOW": NOW_TEXT})


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


def test_import_twice_never_duplicates(tmp_path: Path, run_in_process: InProcessRunner) -> None:
    """Importing the same file twice leaves one clinic and the same rows."""
    home = tmp_path / "home"
    assert run(run_in_process, sealbook_main, "init", home=home).returncode == 0

    first = run(run_in_process, admin_main, "import", str(DEMO_CLINIC), home=home)
    after_first = counts(home)
    second = run(run_in_process, admin_main, "import", str(DEMO_CLINIC), home=home)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "clinic created" in first.stdout
    assert "clinic updated in place" in second.stdout
    assert after_first == {"clinics": 1, "practitioners": 3, "appointment_types": 4, "weekly_sessions": 27}
    assert counts(home) == after_first


def test_bad_file_is_one_line_and_changes_nothing(tmp_path: Path, run_in_process: InProcessRunner) -> None:
    """A clinic file with an impossible time fails with one plain line and no traceback."""
    home = tmp_path / "home"
    assert run(run_in_process, sealbook_main, "init", "--demo-clinic", home=home).returncode == 0
    before = counts(home)
    broken = tmp_path / "clinic.toml"
    broken.write_text(
        DEMO_CLINIC.read_text(encoding="utf-8").replace('"13:30-16:00"', '"16:00-13:30"'), encoding="utf-8"
    )

    result = run(run_in_process, admin_main, "import", str(broken), home=home)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("sealbook-admin: clinic.toml line 24, practitioners#1.hours.friday")
    )
    assert "ends before it starts" in result.stderr
    assert counts(home) == before


def test_init_demo_clinic_has_leave_next_week(tmp_path: Path, run_in_process: InProcessRunner) -> None:
    """`sealbook init --demo-clinic` loads the demo with Dr Lee on leave next Wednesday."""
    home = tmp_path / "home"
    result = run(run_in_process, sealbook_main, "init", "--demo-clinic", home=home)
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
