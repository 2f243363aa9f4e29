"""``audit`` lists the log and ``audit verify`` finds edited, deleted and swapped entries."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.errors import EXIT_AUDIT_BROKEN
from storage import db
from storage.audit import record_audit
from storage.models.audit import AuditEntry
from tests.admin_cli.clinic_day import ADMIN_NOW as FIXED_START
from tests.admin_cli.conftest import AdminRunner


def _seed(factory: sessionmaker[Session], count: int = 5) -> None:
    for index in range(count):
        with db.session_scope(factory) as session:
            record_audit(
                session,
                at=FIXED_START - timedelta(days=count - index),
                actor="staff:reception",
                action="booking.cancel",
                reference=f"K7QM-4X2{index}",
                outcome="ok",
            )


def test_audit_json_lists_entries(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """``audit --json`` prints every entry oldest first with its fields."""
    _seed(session_factory, count=3)

    run = admin("audit", "--json")

    assert run.code == 0, run.err
    entries = json.loads(run.out)
    assert [entry["seq"] for entry in entries] == [1, 2, 3]
    assert entries[0]["actor"] == "staff:reception"
    assert entries[0]["reference"] == "K7QM-4X20"
    assert entries[0]["at"] == (FIXED_START - timedelta(days=3)).isoformat()
    assert set(entries[0]) == {"seq", "at", "actor", "action", "reference", "outcome", "detail"}


def test_audit_since_filters(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """``--since`` with a date or a date-time keeps only entries from that point on."""
    _seed(session_factory, count=5)
    yesterday = (FIXED_START - timedelta(days=1)).date().isoformat()

    by_date = admin("audit", "--json", "--since", yesterday)
    by_instant = admin("audit", "--json", "--since", (FIXED_START - timedelta(days=2)).isoformat())
    by_word = admin("audit", "--json", "--since", "yesterday")

    assert [entry["seq"] for entry in json.loads(by_date.out)] == [5]
    assert [entry["seq"] for entry in json.loads(by_instant.out)] == [4, 5]
    assert [entry["seq"] for entry in json.loads(by_word.out)] == [5]


def test_audit_table_shows_references(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """Without ``--json`` the log is a table naming each reference."""
    _seed(session_factory, count=2)

    run = admin("audit")

    assert run.code == 0, run.err
    assert "K7QM-4X20" in run.out
    assert "K7QM-4X21" in run.out
    assert "booking.cancel" in run.out


def test_audit_bad_since_one_line(admin: AdminRunner) -> None:
    """An unreadable ``--since`` gives one line on stderr and exit code 2."""
    run = admin("audit", "--since", "last tuesday")

    assert run.code == 2
    assert run.err.count("\n") == 1
    assert "--since" in run.err
    assert run.out == ""


def test_verify_intact_chain(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """An untouched chain verifies with exit code 0 and the count of entries."""
    _seed(session_factory)

    run = admin("audit", "verify")
    as_json = admin("audit", "verify", "--json")

    assert run.code == 0, run.err
    assert "5 entries verified" in run.out
    report = json.loads(as_json.out)
    assert report["intact"] is True
    assert report["entries_checked"] == 5
    assert report["first_bad_seq"] is None
    assert report["newest_seq"] == 5
    assert len(report["newest_hash"]) == 64


def test_verify_edited_entry(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """An edited entry fails verification, named by its sequence number, with exit code 5."""
    _seed(session_factory)
    with db.session_scope(session_factory) as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(outcome="failed"))

    run = admin("audit", "verify")

    assert run.code == EXIT_AUDIT_BROKEN
    assert "at entry 3: entry altered" in run.err
    assert run.err.count("\n") == 1


def test_verify_deleted_entry(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """A deleted entry fails verification at the gap it leaves."""
    _seed(session_factory)
    with db.session_scope(session_factory) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))

    run = admin("audit", "verify", "--json")

    assert run.code == EXIT_AUDIT_BROKEN
    assert json.loads(run.out)["first_bad_seq"] == 2
    assert "at entry 2: entry missing" in run.err


def test_verify_swapped_entries(session_factory: sessionmaker[Session], admin: AdminRunner) -> None:
    """Two entries whose contents were swapped fail verification at the first of them."""
    _seed(session_factory)
    with db.session_scope(session_factory) as session:
        second = session.scalars(select(AuditEntry).where(AuditEntry.seq == 2)).one()
        fourth = session.scalars(select(AuditEntry).where(AuditEntry.seq == 4)).one()
        second.reference, fourth.reference = fourth.reference, second.reference
        second.at, fourth.at = fourth.at, second.at

    run = admin("audit", "verify")

    assert run.code == EXIT_AUDIT_BROKEN
    assert "at entry 2" in run.err


def test_verify_deleted_last_entry_goes_unnoticed(
    session_factory: sessionmaker[Session], admin: AdminRunner
) -> None:
    """Removing the newest entry leaves a valid shorter chain; only the newest hash shows it."""
    _seed(session_factory)
    before = json.loads(admin("audit", "verify", "--json").out)
    with db.session_scope(session_factory) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 5))

    run = admin("audit", "verify", "--json")

    assert run.code == 0
    assert json.loads(run.out)["newest_hash"] != before["newest_hash"]
