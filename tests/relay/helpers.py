"""Shared set-up for relay tests: a clinic, sealed contacts, queued notices and an in-process worker."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TextIO

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.app import app as admin_app
from admin_cli.runner import run_admin
from booking import DEMO_CLINIC, import_clinic, load_clinic_file
from bot.contacts import attach_email_contact, resolve_contact
from crypto import Identifier, load_front_keyring, load_relay_keyring, seal_contact
from relay.cli import worker_config
from relay.settings import RelayWorkerSettings
from relay.transports import build_transport
from relay.worker import RelayWorker
from sealbook.clock import FixedClock
from sealbook.settings import load_settings
from storage.db import session_scope
from storage.models.contacts import Contact
from storage.models.outbox import DeliveryAttempt, Notice
from storage.outbox import enqueue_notice, record_chat_reply_delivered

Factory = sessionmaker[Session]


def import_demo_clinic(factory: Factory, now: dt.datetime) -> None:
    """Load the demo clinic (Australia/Sydney, medical profile) into the database."""
    with session_scope(factory) as session:
        import_clinic(session, load_clinic_file(DEMO_CLINIC, now=now), now)


def add_contact(
    factory: Factory, home: Path, channel: str, raw: str, now: dt.datetime, *, email: str | None = None
) -> int:
    """Create one sealed contact the way the front does, optionally with a linked e-mail contact."""
    keyring = load_front_keyring(home / "keys")
    with session_scope(factory) as session:
        ref = resolve_contact(session, keyring, channel, raw, default_region="AU", now=now)
        if email is not None:
            attach_email_contact(session, keyring, ref.contact_id, email, now=now)
        return ref.contact_id


def add_telegram_contacts(
    factory: Factory, home: Path, chat_ids: Sequence[int], now: dt.datetime
) -> list[int]:
    """Create many sealed Telegram contacts in one transaction, faster than one resolve each."""
    keyring = load_front_keyring(home / "keys")
    seal_key = keyring.active_seal_key
    with session_scope(factory) as session:
        rows = [
            Contact(
                channel="telegram",
                pseudonym=chat_id.to_bytes(32, "big"),
                pseudonym_key_id="test",
                created_at=now,
            )
            for chat_id in chat_ids
        ]
        session.add_all(rows)
        session.flush()
        for row, chat_id in zip(rows, chat_ids, strict=True):
            row.sealed_contact = seal_contact(seal_key, Identifier("telegram", str(chat_id)), row.id)
            row.seal_key_id = seal_key.key_id
        return [row.id for row in rows]


def record_chat_reply(factory: Factory, contact_id: int, turn_at: dt.datetime) -> None:
    """Record that the chat replies of the turn at `turn_at` were delivered, as the front does after sending them."""
    with session_scope(factory) as session:
        record_chat_reply_delivered(session, contact_id=contact_id, turn_at=turn_at, delivered_at=turn_at)


def staff_params(reference: str, starts_at: dt.datetime, text: str) -> dict[str, Any]:
    """Return the parameters of a staff message about one booking."""
    return {
        "reference": reference,
        "clinic_name": "Harbourside Family Practice",
        "practitioner_name": "Dr Mei Lee",
        "appointment_type": "Standard consultation",
        "starts_at": starts_at.isoformat(),
        "text": text,
    }


def enqueue_staff_messages(
    factory: Factory,
    contact_ids: Sequence[int],
    now: dt.datetime,
    *,
    starts_at: Callable[[int], dt.datetime] | None = None,
) -> list[str]:
    """Queue one staff message per contact, with reference `T` and a number, and return the references."""
    references = []
    with session_scope(factory) as session:
        for index, contact_id in enumerate(contact_ids):
            reference = f"T{index:05d}"
            appointment = starts_at(index) if starts_at else now + dt.timedelta(hours=2)
            enqueue_notice(
                session,
                kind="staff_message",
                contact_id=contact_id,
                booking_id=None,
                reference=reference,
                params=staff_params(reference, appointment, "Please bring your Medicare card."),
                due_at=now,
                priority_at=appointment,
                created_at=now,
            )
            references.append(reference)
    return references


def notice_rows(factory: Factory) -> list[Notice]:
    """Return every outbox row, oldest first."""
    with factory() as session:
        return list(session.scalars(select(Notice).order_by(Notice.id)))


def attempt_rows(factory: Factory) -> list[DeliveryAttempt]:
    """Return every delivery record, oldest first."""
    with factory() as session:
        return list(session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))


def relay_settings(home: Path, db_url: str, **variables: str) -> RelayWorkerSettings:
    """Load relay settings for `home` on `db_url`, with `SEALBOOK_*` variables given as keywords."""
    environ = {"SEALBOOK_DATABASE_URL": db_url}
    environ.update({f"SEALBOOK_{name.upper()}": value for name, value in variables.items()})
    settings = load_settings(RelayWorkerSettings, home, environ=environ)
    settings.check()
    return settings


def clock_sleep(clock: FixedClock) -> Callable[[float], Coroutine[Any, Any, None]]:
    """Return a sleep that moves the fixed clock on instead of waiting."""

    async def sleep(seconds: float) -> None:
        clock.advance(dt.timedelta(seconds=seconds))
        await asyncio.sleep(0)

    return sleep


async def run_worker(
    settings: RelayWorkerSettings,
    factory: Factory,
    clock: FixedClock,
    *,
    console: TextIO | None = None,
) -> Counter[str]:
    """Run one in-process worker with `--once` semantics on the fixed clock and return its counts."""
    worker = RelayWorker(
        factory,
        load_relay_keyring(settings.keys_dir),
        build_transport(settings, clock, console),
        worker_config(settings),
        clock,
        rng=random.Random(7),
        sleep=clock_sleep(clock),
    )
    return await worker.run(once=True)


def run_staff_tool(
    monkeypatch: pytest.MonkeyPatch, home: Path, db_url: str, now: dt.datetime, *args: str
) -> int:
    """Run `sealbook-admin` in this process on the test database at `now` and return its exit code.

    The tool sets up logging for itself, so the test's log handlers are put back afterwards.
    """
    variables = {
        "SEALBOOK_HOME": str(home),
        "SEALBOOK_DATABASE_URL": db_url,
        "SEALBOOK_NOW": now.isoformat(),
        "SEALBOOK_OPERATOR": "reception",
    }
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with monkeypatch.context() as scoped:
        for name, value in variables.items():
            scoped.setenv(name, value)
        try:
            return run_admin(admin_app, list(args))
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
