"""Tests for resolving inbound identifiers to contact rows on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.contacts import ContactNotFound, ContactRef, attach_email_contact, resolve_contact
from crypto import (
    FrontKeyring,
    InvalidIdentifier,
    init_keyrings,
    load_front_keyring,
    load_relay_keyring,
    normalise,
    open_contact,
    rotate_pseudonym_key,
    sealed_key_id,
)
from sealbook.clock import FixedClock
from storage.db import session_scope
from storage.models.contacts import Contact


@pytest.fixture
def keys_dir(tmp_path: Path, clock: FixedClock) -> Path:
    """A keys folder with fresh keyrings."""
    folder = tmp_path / "keys"
    init_keyrings(folder, now=clock.now())
    return folder


@pytest.fixture
def front(keys_dir: Path) -> FrontKeyring:
    """The front's keyring."""
    return load_front_keyring(keys_dir)


def _resolve(
    factory: sessionmaker[Session], front: FrontKeyring, channel: str, raw: str | int, clock: FixedClock
) -> ContactRef:
    with session_scope(factory) as session:
        return resolve_contact(session, front, channel, raw, default_region="AU", now=clock.now())


def _count(factory: sessionmaker[Session]) -> int:
    with session_scope(factory) as session:
        return int(session.scalar(select(func.count()).select_from(Contact)) or 0)


def test_new_contact_sealed_to_own_row(
    session_factory: sessionmaker[Session], front: FrontKeyring, keys_dir: Path, clock: FixedClock
) -> None:
    """A first message creates one row whose payload opens for that row with the relay keyring."""
    ref = _resolve(session_factory, front, "sms", "0412 345 678", clock)
    assert ref.created is True
    assert ref.channel == "sms"
    assert ref.opted_out is False
    assert "pseudonym" not in {field.name for field in dataclasses.fields(ref)}

    with session_scope(session_factory) as session:
        row = session.get(Contact, ref.contact_id)
        assert row is not None
        assert row.pseudonym_key_id == "p1"
        assert row.seal_key_id == "s1"
        assert row.created_at == clock.now()
        assert row.sealed_contact is not None
        blob = row.sealed_contact
    assert sealed_key_id(blob) == "s1"
    opened = open_contact(load_relay_keyring(keys_dir), blob, channel="sms", contact_id=ref.contact_id)
    assert opened == normalise("sms", "0412 345 678")


def test_spellings_find_one_row(
    session_factory: sessionmaker[Session], front: FrontKeyring, clock: FixedClock
) -> None:
    """Different spellings of one mobile number resolve to the same row."""
    first = _resolve(session_factory, front, "sms", "0412 345 678", clock)
    again = _resolve(session_factory, front, "sms", "+61 (0) 412-345-678", clock)
    other_channel = _resolve(session_factory, front, "telegram", 61412345678, clock)
    assert again.contact_id == first.contact_id
    assert again.created is False
    assert other_channel.contact_id != first.contact_id
    assert _count(session_factory) == 2


def test_invalid_identifier_writes_nothing(
    session_factory: sessionmaker[Session], front: FrontKeyring, clock: FixedClock
) -> None:
    """A landline for SMS raises InvalidIdentifier and leaves no row behind."""
    with pytest.raises(InvalidIdentifier):
        _resolve(session_factory, front, "sms", "02 9876 5432", clock)
    assert _count(session_factory) == 0


def test_old_key_row_moved_on_the_spot(
    session_factory: sessionmaker[Session], keys_dir: Path, front: FrontKeyring, clock: FixedClock
) -> None:
    """After a pseudonym rotation a returning patient keeps the row, which moves to the new key."""
    before = _resolve(session_factory, front, "telegram", 424242, clock)
    rotate_pseudonym_key(keys_dir, now=clock.now())
    rotated = load_front_keyring(keys_dir)

    after = _resolve(session_factory, rotated, "telegram", "424242", clock)
    assert after.contact_id == before.contact_id
    assert after.created is False
    with session_scope(session_factory) as session:
        row = session.get(Contact, after.contact_id)
        assert row is not None
        assert row.pseudonym_key_id == "p2"

    # The old keyring no longer finds the patient, so it would create a new row.
    assert _resolve(session_factory, front, "telegram", 424242, clock).created is True


def test_opt_out_state_reported(
    session_factory: sessionmaker[Session], front: FrontKeyring, clock: FixedClock
) -> None:
    """A contact that opted out is reported as such on its next message."""
    ref = _resolve(session_factory, front, "sms", "0412 345 678", clock)
    with session_scope(session_factory) as session:
        row = session.get(Contact, ref.contact_id)
        assert row is not None
        row.opted_out_at = clock.now()
    assert _resolve(session_factory, front, "sms", "0412345678", clock).opted_out is True


def test_attach_email_contact(
    session_factory: sessionmaker[Session], front: FrontKeyring, keys_dir: Path, clock: FixedClock
) -> None:
    """An e-mail address becomes its own sealed row, linked from the patient's contact and shared by two."""
    first = _resolve(session_factory, front, "sms", "0412 345 678", clock)
    second = _resolve(session_factory, front, "telegram", 77, clock)
    with session_scope(session_factory) as session:
        email = attach_email_contact(session, front, first.contact_id, " Jane@Example.org", now=clock.now())
        shared = attach_email_contact(session, front, second.contact_id, "jane@example.org", now=clock.now())
    assert email.channel == "email"
    assert shared.contact_id == email.contact_id

    with session_scope(session_factory) as session:
        owner = session.get(Contact, first.contact_id)
        row = session.get(Contact, email.contact_id)
        assert owner is not None
        assert row is not None
        assert owner.email_contact_id == email.contact_id
        assert row.sealed_contact is not None
        blob = row.sealed_contact
    opened = open_contact(load_relay_keyring(keys_dir), blob, channel="email", contact_id=email.contact_id)
    assert opened.value == "jane@example.org"


def test_attach_email_unknown_contact(
    session_factory: sessionmaker[Session], front: FrontKeyring, clock: FixedClock
) -> None:
    """Linking an e-mail address to a missing contact raises ContactNotFound and writes nothing."""
    with pytest.raises(ContactNotFound), session_scope(session_factory) as session:
        attach_email_contact(session, front, 999, "jane@example.org", now=clock.now())
    assert _count(session_factory) == 0


def _wait_for_lock_wait(engine: Engine) -> None:
    """Wait up to five seconds until some PostgreSQL backend is blocked on a lock."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        # A fresh transaction per poll, because PostgreSQL keeps one snapshot
        # of pg_stat_activity for the whole of a transaction.
        with engine.connect() as connection:
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar()
        if waiting:
            return
        time.sleep(0.02)
    pytest.fail("the second transaction never waited on the first one's insert")


def test_concurrent_first_contact_one_row(
    session_factory: sessionmaker[Session],
    engine: Engine,
    front: FrontKeyring,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two first messages from one number in overlapping transactions give one row."""
    caplog.set_level("INFO", logger="bot.contacts")
    results: list[ContactRef] = []
    errors: list[BaseException] = []

    def second_message() -> None:
        try:
            results.append(_resolve(session_factory, front, "sms", "+61412345678", clock))
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    with session_scope(session_factory) as session:
        first = resolve_contact(session, front, "sms", "0412 345 678", default_region="AU", now=clock.now())
        worker = threading.Thread(target=second_message)
        worker.start()
        if engine.dialect.name == "postgresql":
            # The second insert now waits on the unique index for this commit.
            _wait_for_lock_wait(engine)
        else:
            # SQLite: the second transaction waits at BEGIN IMMEDIATE.
            time.sleep(0.2)
    worker.join(timeout=15)

    assert errors == []
    assert len(results) == 1
    assert results[0].contact_id == first.contact_id
    assert results[0].created is False
    assert _count(session_factory) == 1
    if engine.dialect.name == "postgresql":
        # The second insert lost on the unique constraint and looked again.
        assert "looking it up again" in caplog.text
