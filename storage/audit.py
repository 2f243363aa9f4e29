"""Appending to and verifying the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storage.models.audit import AuditEntry

GENESIS_HASH = bytes(32)
# Any fixed number serves; it names the PostgreSQL advisory lock that
# serialises appends so that two writers cannot chain to the same entry.
_AUDIT_LOCK_ID = 0x5EA1B00C


@dataclass(frozen=True)
class AuditCheck:
    """Result of verifying the chain: ``first_bad_seq`` is None when every entry checks out."""

    entries: int
    first_bad_seq: int | None
    problem: str | None


def entry_digest(
    prev_hash: bytes,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    reference: str | None,
    outcome: str,
    detail: str | None,
) -> bytes:
    """Return SHA-256 over the previous hash and a canonical JSON form of the entry."""
    body = json.dumps(
        [seq, at.isoformat(), actor, action, reference, outcome, detail],
        ensure_ascii=True,
        separators=(",", ":"),
    ).encode("ascii")
    return hashlib.sha256(prev_hash + body).digest()


def record_audit(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    reference: str | None,
    outcome: str,
    detail: str | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction, chained to the newest entry."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": _AUDIT_LOCK_ID})
    # On SQLite every transaction starts with BEGIN IMMEDIATE, which already
    # serialises writers.

    last = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq = 1 if last is None else last.seq + 1
    prev_hash = GENESIS_HASH if last is None else last.entry_hash
    at_second = at.replace(microsecond=0)

    entry = AuditEntry(
        seq=seq,
        at=at_second,
        actor=actor,
        action=action,
        reference=reference,
        outcome=outcome,
        detail=detail,
        prev_hash=prev_hash,
        entry_hash=entry_digest(prev_hash, seq, at_second, actor, action, reference, outcome, detail),
    )
    session.add(entry)
    session.flush()
    return entry


def verify_audit(session: Session) -> AuditCheck:
    """Walk the chain in order and report the first entry altered, removed or reordered."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        count += 1
        if entry.seq != expected_seq:
            return AuditCheck(count, expected_seq, "entry missing")
        if entry.prev_hash != expected_prev:
            return AuditCheck(count, entry.seq, "chain broken: entry removed or reordered")
        digest = entry_digest(
            entry.prev_hash,
            entry.seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.reference,
            entry.outcome,
            entry.detail,
        )
        if digest != entry.entry_hash:
            return AuditCheck(count, entry.seq, "entry altered")
        expected_prev = entry.entry_hash
        expected_seq += 1
    return AuditCheck(count, None, None)
