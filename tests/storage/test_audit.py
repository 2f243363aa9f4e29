"""The hash-chained audit log detects altered, removed and reordered entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from storage import db
from storage.audit import record_audit, verify_audit
from storage.models.audit import AuditEntry

START = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


def _seed(factory: sessionmaker[Session], count: int = 5) -> None:
    for index in range(count):
        with db.session_scope(factory) as session:
            record_audit(
                session,
                at=START + timedelta(minutes=index),
                actor="staff:reception",
                action="booking.cancel",
                reference=f"K7QM-4X2{index}",
                outcome="ok",
            )


def test_intact_chain_verifies(session_factory: sessionmaker[Session]) -> None:
    """An untouched chain verifies, with every entry counted."""
    _seed(session_factory)
    with session_factory() as session:
        check = verify_audit(session)

    assert check.first_bad_seq is None
    assert check.entries == 5


def test_edited_entry_detected(session_factory: sessionmaker[Session]) -> None:
    """Changing one field of one entry is reported at that entry."""
    _seed(session_factory)
    with db.session_scope(session_factory) as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(outcome="failed"))

    with session_factory() as session:
        check = verify_audit(session)

    assert check.first_bad_seq == 3
    assert check.problem == "entry altered"


def test_deleted_entry_detected(session_factory: sessionmaker[Session]) -> None:
    """Removing an entry from the middle is reported where the gap starts."""
    _seed(session_factory)
    with db.session_scope(session_factory) as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))

    with session_factory() as session:
        check = verify_audit(session)

    assert check.first_bad_seq == 2
    assert check.problem == "entry missing"


def test_swapped_entries_detected(session_factory: sessionmaker[Session]) -> None:
    """Swapping the contents of two entries is reported at the first of them."""
    _seed(session_factory)
    with db.session_scope(session_factory) as session:
        second = session.scalars(select(AuditEntry).where(AuditEntry.seq == 2)).one()
        fourth = session.scalars(select(AuditEntry).where(AuditEntry.seq == 4)).one()
        second.reference, fourth.reference = fourth.reference, second.reference
        second.at, fourth.at = fourth.at, second.at

    with session_factory() as session:
        check = verify_audit(session)

    assert check.first_bad_seq == 2


def test_chain_links_each_entry(session_factory: sessionmaker[Session]) -> None:
    """Each entry's previous hash is the hash of the entry before it."""
    _seed(session_factory, count=3)
    with session_factory() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))

    assert [entry.seq for entry in entries] == [1, 2, 3]
    assert entries[1].prev_hash == entries[0].entry_hash
    assert entries[2].prev_hash == entries[1].entry_hash
