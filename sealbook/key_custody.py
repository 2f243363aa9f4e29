"""Key custody on the database: key usage counts, bulk rewrap and repseudonymise in short batches."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import CursorResult, Result, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crypto import (
    CannotOpen,
    CustodianKeyring,
    FrontKeyring,
    RelayKeyring,
    open_contact,
    recompute_pseudonym,
    seal_contact,
)
from sealbook.errors import SealbookError
from storage.db import session_scope
from storage.models.contacts import Contact

logger = logging.getLogger(__name__)

# Rows per transaction. Each batch is one short transaction, so the write
# lock (SQLite) or the row locks (PostgreSQL) are released often and the
# front keeps serving messages while a bulk operation runs.
DEFAULT_BATCH_SIZE: Final = 100


class KeyCustodyError(SealbookError):
    """A key operation that cannot go ahead; the message names the reason and what to run first."""


@dataclass
class BulkReport:
    """Counts of a bulk rewrap or repseudonymise run."""

    moved: int = 0
    skipped: int = 0
    failed: int = 0
    batches: int = 0


def count_key_usage(factory: sessionmaker[Session]) -> Counter[str]:
    """Return how many contact rows name each key id, as pseudonym key or as seal key."""
    usage: Counter[str] = Counter()
    with session_scope(factory) as session:
        for key_id, count in session.execute(
            select(Contact.pseudonym_key_id, func.count()).group_by(Contact.pseudonym_key_id)
        ):
            usage[key_id] += count
        for seal_key_id, count in session.execute(
            select(Contact.seal_key_id, func.count())
            .where(Contact.seal_key_id.is_not(None))
            .group_by(Contact.seal_key_id)
        ):
            if seal_key_id is not None:
                usage[seal_key_id] += count
    return usage


def rows_using_key(factory: sessionmaker[Session], key_id: str) -> int:
    """Return how many contact rows still name `key_id`."""
    with session_scope(factory) as session:
        count = session.scalar(
            select(func.count()).where((Contact.pseudonym_key_id == key_id) | (Contact.seal_key_id == key_id))
        )
    return int(count or 0)


def rewrap_contacts(
    factory: sessionmaker[Session], custodian: CustodianKeyring, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> BulkReport:
    """Re-seal every contact not sealed to the active seal key, in batches of `batch_size` rows.

    Each row is opened with the custodian's private keys and sealed again,
    bound to the same row id and channel, to the active relay public key.
    A row changed by someone else meanwhile is skipped; a row that does not
    open keeps its old payload and is counted as failed.
    """
    target = custodian.front().active_seal_key
    relay = custodian.relay()
    report = BulkReport()
    after_id = 0
    while True:
        with session_scope(factory) as session:
            rows = session.execute(
                select(Contact.id, Contact.channel, Contact.sealed_contact, Contact.seal_key_id)
                .where(Contact.id > after_id, Contact.sealed_contact.is_not(None))
                .where((Contact.seal_key_id != target.key_id) | Contact.seal_key_id.is_(None))
                .order_by(Contact.id)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            report.batches += 1
            for contact_id, channel, blob, old_key_id in rows:
                after_id = contact_id
                if blob is None:
                    continue
                try:
                    identifier = open_contact(relay, blob, channel=channel, contact_id=contact_id)
                except CannotOpen:
                    logger.warning(
                        "contact %s did not open under seal key %s; left as it is", contact_id, old_key_id
                    )
                    report.failed += 1
                    continue
                resealed = seal_contact(target, identifier, contact_id)
                changed = _rowcount(
                    session.execute(
                        update(Contact)
                        .where(Contact.id == contact_id, Contact.sealed_contact == blob)
                        .values(sealed_contact=resealed, seal_key_id=target.key_id)
                    )
                )
                if changed:
                    report.moved += 1
                else:
                    report.skipped += 1
        logger.info("rewrap batch %s done, up to contact %s", report.batches, after_id)
    return report


def repseudonymise_contacts(
    factory: sessionmaker[Session], custodian: CustodianKeyring, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> BulkReport:
    """Recompute every pseudonym not made with the active pseudonym key, in batches of `batch_size` rows.

    The identifier comes from opening the row's sealed contact with the
    custodian's private keys. A row already moved by the front meanwhile is
    skipped, and a row that does not open keeps its old pseudonym and is
    counted as failed.
    """
    front = custodian.front()
    active_key_id = front.active_pseudonym_key_id
    relay = custodian.relay()
    report = BulkReport()
    after_id = 0
    while True:
        with session_scope(factory) as session:
            rows = session.execute(
                select(Contact.id, Contact.channel, Contact.sealed_contact, Contact.pseudonym_key_id)
                .where(Contact.id > after_id, Contact.pseudonym_key_id != active_key_id)
                .order_by(Contact.id)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            report.batches += 1
            for contact_id, channel, blob, old_key_id in rows:
                after_id = contact_id
                moved = _repseudonymise_row(session, front, relay, contact_id, channel, blob, old_key_id)
                if moved is None:
                    report.failed += 1
                elif moved:
                    report.moved += 1
                else:
                    report.skipped += 1
        logger.info("repseudonymise batch %s done, up to contact %s", report.batches, after_id)
    return report


def _repseudonymise_row(
    session: Session,
    front: FrontKeyring,
    relay: RelayKeyring,
    contact_id: int,
    channel: str,
    blob: bytes | None,
    old_key_id: str,
) -> bool | None:
    """Move one row to the active pseudonym key; return True if moved, False if skipped, None if failed."""
    if blob is None:
        logger.warning("contact %s has no sealed contact, so its pseudonym cannot be recomputed", contact_id)
        return None
    try:
        identifier = open_contact(relay, blob, channel=channel, contact_id=contact_id)
    except CannotOpen:
        logger.warning("contact %s did not open, so its pseudonym stays under key %s", contact_id, old_key_id)
        return None

    pseudonym = recompute_pseudonym(front, identifier)
    try:
        with session.begin_nested():
            changed = _rowcount(
                session.execute(
                    update(Contact)
                    .where(Contact.id == contact_id, Contact.pseudonym_key_id == old_key_id)
                    .values(pseudonym=pseudonym.tag, pseudonym_key_id=pseudonym.key_id)
                )
            )
    except IntegrityError:
        # Another row already has the active pseudonym: the same person was
        # given a second row, which only a front running without the old key
        # can cause. Leave both for an operator to merge.
        logger.warning(
            "contact %s duplicates another row under pseudonym key %s; left under key %s",
            contact_id,
            pseudonym.key_id,
            old_key_id,
        )
        return None
    return bool(changed)


def _rowcount(result: Result[Any]) -> int:
    # An UPDATE returns a CursorResult, which has the matched row count.
    return cast(CursorResult[Any], result).rowcount
