"""Notices are written in the transaction of the change that causes them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage import db
from storage.models.contacts import Contact
from storage.models.outbox import Notice
from storage.outbox import DEDUPE_LOOKUP_CHUNK, NewNotice, enqueue_notice, enqueue_notices, withdraw_notices

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


def _contact(factory: sessionmaker[Session]) -> int:
    with db.session_scope(factory) as session:
        contact = Contact(channel="sms", pseudonym=b"\x07" * 32, pseudonym_key_id="p1", created_at=NOW)
        session.add(contact)
        session.flush()
        return contact.id


def _new_notice(contact_id: int, key: str | None, kind: str = "running_late") -> NewNotice:
    return NewNotice(
        kind=kind,
        contact_id=contact_id,
        booking_id=41,
        reference="K7QM-4X2P",
        params={"time": "Wed 10 Mar 9:00am"},
        due_at=NOW,
        priority_at=NOW + timedelta(days=1),
        created_at=NOW,
        dedupe_key=key,
    )


def _enqueue(
    session: Session, contact_id: int, kind: str = "booking_confirmed", key: str | None = None
) -> Notice | None:
    return enqueue_notice(session, **asdict(_new_notice(contact_id, key, kind)))


def _keys(factory: sessionmaker[Session]) -> list[str | None]:
    with factory() as session:
        return list(session.scalars(select(Notice.dedupe_key).order_by(Notice.id)))


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Notice)) or 0)


def test_committed_change_keeps_notice(session_factory: sessionmaker[Session]) -> None:
    """A committed transaction leaves its notice pending in the outbox."""
    contact_id = _contact(session_factory)
    with db.session_scope(session_factory) as session:
        _enqueue(session, contact_id)

    assert _count(session_factory) == 1


def test_rolled_back_change_leaves_no_notice(session_factory: sessionmaker[Session]) -> None:
    """A rolled-back transaction takes its notice with it."""
    contact_id = _contact(session_factory)
    with pytest.raises(RuntimeError), db.session_scope(session_factory) as session:
        _enqueue(session, contact_id)
        raise RuntimeError("the booking failed after the notice was written")

    assert _count(session_factory) == 0


def test_dedupe_key_enqueues_once(session_factory: sessionmaker[Session]) -> None:
    """A second notice with the same dedupe key is not added."""
    contact_id = _contact(session_factory)
    with db.session_scope(session_factory) as session:
        first = _enqueue(session, contact_id, key="late:41:30")
    with db.session_scope(session_factory) as session:
        second = _enqueue(session, contact_id, key="late:41:30")

    assert first is not None
    assert second is None
    assert _count(session_factory) == 1


def test_withdraw_only_pending_of_kind(session_factory: sessionmaker[Session]) -> None:
    """Withdrawing reminders leaves other kinds pending."""
    contact_id = _contact(session_factory)
    with db.session_scope(session_factory) as session:
        _enqueue(session, contact_id, kind="reminder")
        _enqueue(session, contact_id, kind="booking_confirmed")
    with db.session_scope(session_factory) as session:
        withdrawn = withdraw_notices(session, 41, ["reminder"], NOW)

    with session_factory() as session:
        statuses = {kind: status for kind, status in session.execute(select(Notice.kind, Notice.status))}
    assert withdrawn == 1
    assert statuses == {"reminder": "withdrawn", "booking_confirmed": "pending"}


def test_batch_skips_queued_and_repeated_keys(session_factory: sessionmaker[Session]) -> None:
    """A batch leaves out keys already queued and repeats within itself, as single enqueues would."""
    contact_id = _contact(session_factory)
    with db.session_scope(session_factory) as session:
        _enqueue(session, contact_id, key="late:41:1")
    batch = [
        _new_notice(contact_id, "late:41:1"),
        _new_notice(contact_id, "late:41:2"),
        _new_notice(contact_id, None),
        _new_notice(contact_id, "late:41:2"),
        _new_notice(contact_id, None),
    ]
    with db.session_scope(session_factory) as session:
        added = enqueue_notices(session, batch)

    assert added == 3
    assert _keys(session_factory) == ["late:41:1", "late:41:2", None, None]


def test_batch_sees_uncommitted_notice(session_factory: sessionmaker[Session]) -> None:
    """A key queued earlier in the same transaction is not queued again by a batch."""
    contact_id = _contact(session_factory)
    with db.session_scope(session_factory) as session:
        _enqueue(session, contact_id, key="late:41:1")
        added = enqueue_notices(session, [_new_notice(contact_id, "late:41:1")])

    assert added == 0
    assert _count(session_factory) == 1


def test_batch_rolled_back_with_change(session_factory: sessionmaker[Session]) -> None:
    """A rolled-back transaction takes the whole batch with it."""
    contact_id = _contact(session_factory)
    with pytest.raises(RuntimeError), db.session_scope(session_factory) as session:
        enqueue_notices(session, [_new_notice(contact_id, f"late:41:{step}") for step in range(3)])
        raise RuntimeError("the declaration failed after the notices were written")

    assert _count(session_factory) == 0


def test_batch_larger_than_lookup_chunk(session_factory: sessionmaker[Session]) -> None:
    """Queued keys are found in every lookup chunk of a large batch."""
    contact_id = _contact(session_factory)
    size = DEDUPE_LOOKUP_CHUNK * 2 + 10
    already = {0, DEDUPE_LOOKUP_CHUNK, size - 1}
    with db.session_scope(session_factory) as session:
        for number in sorted(already):
            _enqueue(session, contact_id, key=f"late:{number:05d}")
    with db.session_scope(session_factory) as session:
        added = enqueue_notices(session, [_new_notice(contact_id, f"late:{n:05d}") for n in range(size)])

    assert added == size - len(already)
    keys = _keys(session_factory)
    assert len(keys) == size
    assert len(set(keys)) == size
