"""Inbound messages recorded by their channel id, so a redelivered webhook is handled once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class InboundMessage(Base):
    """One inbound message seen on a channel: the digest of its channel id and when it arrived.

    No contents and no sender are stored. The channel's message id (Telegram's
    ``update_id``, Twilio's ``MessageSid``) is kept only as its SHA-256
    digest, because anyone holding the Twilio account credentials can fetch a
    message's sender and body from Twilio by its ``MessageSid``. A
    ``MessageSid`` carries 128 random bits, so the digest cannot be reversed
    by trying candidates.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "message_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    message_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ContactMessageWindow(Base):
    """The current rate-limit window of one contact: when it started and how many messages it holds.

    Kept in the database so that every webhook worker counts against the same window.
    """

    __tablename__ = "contact_message_windows"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_count: Mapped[int] = mapped_column(Integer)
