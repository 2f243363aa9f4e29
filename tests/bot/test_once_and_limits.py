"""Once-only records and the per-contact rate limit, alone and under concurrent workers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.once import prune_deliveries, record_first_delivery
from bot.ratelimit import RateVerdict, count_message
from storage import db
from storage.models.contacts import Contact
from storage.models.inbound import InboundMessage

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


def _contact(factory: sessionmaker[Session]) -> int:
    with db.session_scope(factory) as session:
        contact = Contact(channel="sms", pseudonym=b"\x01" * 32, pseudonym_key_id="p1", created_at=NOW)
        session.add(contact)
        session.flush()
        return contact.id


def _record(factory: sessionmaker[Session], channel: str, message_id: str, at: datetime = NOW) -> bool:
    with db.session_scope(factory) as session:
        return record_first_delivery(session, channel, message_id, at)


def _count(factory: sessionmaker[Session], contact_id: int, at: datetime, limit: int = 3) -> RateVerdict:
    with db.session_scope(factory) as session:
        return count_message(session, contact_id, at, limit)


def test_second_record_of_same_id_is_false(session_factory: sessionmaker[Session]) -> None:
    """Recording a channel message id twice returns True, then False."""
    assert _record(session_factory, "sms", "SM1") is True
    assert _record(session_factory, "sms", "SM1") is False


def test_same_id_on_other_channel_is_new(session_factory: sessionmaker[Session]) -> None:
    """An id seen on SMS is still new on Telegram: the key is channel and id together."""
    _record(session_factory, "sms", "12")

    assert _record(session_factory, "telegram", "12") is True


def test_rolled_back_record_leaves_id_new(session_factory: sessionmaker[Session]) -> None:
    """A record whose transaction rolls back does not count, so a redelivery is acted on."""
    with pytest.raises(RuntimeError), db.session_scope(session_factory) as session:
        record_first_delivery(session, "sms", "SM2", NOW)
        raise RuntimeError("crash before commit")

    assert _record(session_factory, "sms", "SM2") is True


def test_concurrent_records_one_winner(session_factory: sessionmaker[Session]) -> None:
    """Eight workers recording one id at once: exactly one is first."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: _record(session_factory, "sms", "SM3"), range(8)))

    assert sorted(results) == [False] * 7 + [True]


def test_prune_removes_only_old_records(session_factory: sessionmaker[Session]) -> None:
    """Pruning deletes records received before the cut-off and keeps the rest."""
    _record(session_factory, "sms", "old", NOW - timedelta(days=3))
    _record(session_factory, "sms", "new", NOW)

    with db.session_scope(session_factory) as session:
        removed = prune_deliveries(session, NOW - timedelta(days=2))
    with session_factory() as session:
        left = session.scalars(select(InboundMessage.received_at)).all()

    assert removed == 1
    assert left == [NOW]


def test_limit_allows_then_pauses_then_silent(session_factory: sessionmaker[Session]) -> None:
    """With a limit of three: three allowed, one pause, then silence."""
    contact_id = _contact(session_factory)

    verdicts = [_count(session_factory, contact_id, NOW + timedelta(seconds=second)) for second in range(6)]

    assert verdicts == [RateVerdict.ALLOW] * 3 + [RateVerdict.PAUSE] + [RateVerdict.SILENT] * 2


def test_window_reopens_after_a_minute(session_factory: sessionmaker[Session]) -> None:
    """A minute after the window opened, counting starts again at one."""
    contact_id = _contact(session_factory)
    for _ in range(5):
        _count(session_factory, contact_id, NOW)

    assert _count(session_factory, contact_id, NOW + timedelta(seconds=59)) == RateVerdict.SILENT
    assert _count(session_factory, contact_id, NOW + timedelta(seconds=60)) == RateVerdict.ALLOW


def test_concurrent_counts_pause_once(session_factory: sessionmaker[Session]) -> None:
    """Ten messages of one contact counted at once on ten workers: three allowed, one pause, six silent."""
    contact_id = _contact(session_factory)

    with ThreadPoolExecutor(max_workers=10) as pool:
        verdicts = list(pool.map(lambda _: _count(session_factory, contact_id, NOW), range(10)))

    assert verdicts.count(RateVerdict.ALLOW) == 3
    assert verdicts.count(RateVerdict.PAUSE) == 1
    assert verdicts.count(RateVerdict.SILENT) == 6
