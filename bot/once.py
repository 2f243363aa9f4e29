"""Recording inbound messages by channel id, so that a redelivered webhook is acted on once."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models.inbound import InboundMessage

logger = logging.getLogger(__name__)


def message_digest(channel_message_id: str) -> bytes:
    """Return the SHA-256 digest under which a channel's message id is stored."""
    return hashlib.sha256(channel_message_id.encode("utf-8")).digest()


def record_first_delivery(session: Session, channel: str, channel_message_id: str, now: datetime) -> bool:
    """Record the message in the caller's transaction; return False if it was recorded before.

    The unique constraint on (channel, digest) decides, so two workers handed
    the same message at once cannot both get True. On PostgreSQL the second
    insert waits for the first transaction and then finds the row. On SQLite
    the writers queue on the database lock.
    """
    values = {"channel": channel, "message_digest": message_digest(channel_message_id), "received_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(InboundMessage).values(values).on_conflict_do_nothing()
    inserted = session.execute(statement.returning(InboundMessage.id)).scalar_one_or_none()
    first = inserted is not None
    if not first:
        logger.info("%s message delivered again; acknowledged without acting on it", channel)
    return first


def prune_deliveries(session: Session, received_before: datetime) -> int:
    """Delete records of messages received before ``received_before``; return how many went.

    Twilio and Telegram stop redelivering within a day, so records older than
    that only grow the table.
    """
    result = session.execute(delete(InboundMessage).where(InboundMessage.received_at < received_before))
    count = int(result.rowcount)  # type: ignore[attr-defined]
    if count:
        logger.info("pruned %d inbound message records", count)
    return count
