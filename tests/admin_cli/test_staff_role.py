"""The staff tool runs as the restricted PostgreSQL role, which cannot read any contact column."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from storage import db
from tests.admin_cli.canary import find_canaries
from tests.admin_cli.clinic_day import ADMIN_NOW, DEMO_CLINIC_FILE, ClinicDay, seed_clinic_day
from tests.admin_cli.conftest import AdminInProcessRunner
from tests.admin_cli.staff_role import staff_role


@pytest.fixture
def owner_engine(postgres_url: str) -> Iterator[Engine]:
    """Yield an engine of the tables' owner on a migrated PostgreSQL schema."""
    engine = db.make_engine(postgres_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def role_url(owner_engine: Engine, postgres_url: str) -> Iterator[str]:
    """Yield the URL of a fresh staff role made by docs/staff_role.sql."""
    with staff_role(postgres_url) as url:
        yield url


def _seed(owner_engine: Engine) -> ClinicDay:
    return seed_clinic_day(db.make_session_factory(owner_engine))


DENIED_STATEMENTS = (
    "SELECT pseudonym FROM contacts",
    "SELECT sealed_contact FROM contacts",
    "SELECT id FROM contacts",
    "SELECT params FROM outbox_notices",
    "UPDATE audit_entries SET outcome = 'changed'",
    "DELETE FROM audit_entries",
)


def test_role_denied_statements(owner_engine: Engine, role_url: str) -> None:
    """The staff role may not read contacts or notice params, nor change the audit log."""
    _seed(owner_engine)
    engine = db.make_engine(role_url)
    try:
        for statement in DENIED_STATEMENTS:
            with pytest.raises(ProgrammingError, match="permission denied"), engine.connect() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def test_admin_commands_under_role(
    owner_engine: Engine, role_url: str, admin_in_process: AdminInProcessRunner
) -> None:
    """The staff tool's commands, reading and changing, all work as the staff role and show no canary."""
    day = _seed(owner_engine)
    env = {
        "SEALBOOK_DATABASE_URL": role_url,
        "SEALBOOK_NOW": ADMIN_NOW.isoformat(),
        "SEALBOOK_OPERATOR": "desk",
    }
    commands = [
        ["day", "--json"],
        ["show", day.lee_first],
        ["practitioners", "--json"],
        ["hours", "lee"],
        ["checkin", day.lee_first],
        ["move", day.lee_second, "2027-03-10 10:30"],
        ["cancel", day.nair_first, "--reason", "patient-request"],
        ["message", "-p", "lee", "Running 20 minutes late", "--yes"],
        ["late", "lee", "20", "--yes"],
        ["away", "nair", "--from", "13:00", "--yes"],
        ["leave", "nair", "2027-03-11"],
        ["import", str(DEMO_CLINIC_FILE)],
        ["audit", "--json"],
        ["audit", "verify"],
        ["outbox", "--failed"],
        ["outbox", "--json"],
    ]

    runs = [admin_in_process(command, env) for command in commands]

    for run in runs:
        assert run.code == 0, (run.args, run.err)
        assert find_canaries(run.output, day.canaries.secret_bytes) == [], run.args
    assert "staff_message" in runs[-1].out
