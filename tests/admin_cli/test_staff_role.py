"""The staff tool runs as the restricted PostgreSQL role, which cannot read any contact column."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from storage import db
from storage.audit import record_audit
from storage.outbox import enqueue_notice
from tests.admin_cli.canary import find_canaries, seed_canary_contacts
from tests.admin_cli.conftest import run_admin_process
from tests.admin_cli.staff_role import staff_role
from tests.conftest import FIXED_START


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


def _seed(owner_engine: Engine) -> tuple[bytes, ...]:
    with Session(owner_engine) as session, session.begin():
        canaries = seed_canary_contacts(session, FIXED_START)
        enqueue_notice(
            session,
            kind="reminder",
            contact_id=canaries.sms_id,
            booking_id=1,
            reference="K7QM-4X2P",
            params={},
            due_at=FIXED_START,
            priority_at=FIXED_START,
            created_at=FIXED_START,
        )
        record_audit(
            session,
            at=FIXED_START,
            actor="patient",
            action="booking.book",
            reference="K7QM-4X2P",
            outcome="ok",
        )
    return canaries.secret_bytes


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


def test_admin_commands_under_role(owner_engine: Engine, role_url: str) -> None:
    """Every read command of the staff tool succeeds as the staff role and shows no canary."""
    secrets = _seed(owner_engine)
    env = {"SEALBOOK_DATABASE_URL": role_url, "SEALBOOK_NOW": FIXED_START.isoformat()}

    runs = [
        run_admin_process(["audit"], env),
        run_admin_process(["audit", "--json"], env),
        run_admin_process(["audit", "verify"], env),
        run_admin_process(["outbox", "--json"], env),
        run_admin_process(["outbox", "--failed"], env),
    ]

    for run in runs:
        assert run.code == 0, (run.args, run.err)
        assert find_canaries(run.output, secrets) == [], run.args
    assert json.loads(runs[3].out)[0]["reference"] == "K7QM-4X2P"
