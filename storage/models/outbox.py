"""The transactional outbox: notices waiting for the relay, and a record of each delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime

# Life of a notice: pending -> sending (claimed under a lease) -> sent, or
# back to pending for a retry, or failed / undeliverable; withdrawn when the
# change that caused it is undone (a reminder for a cancelled booking);
# skipped when the relay finds at delivery time that it no longer applies.
NOTICE_STATUSES = ("pending", "sending", "sent", "failed", "undeliverable", "withdrawn", "skipped")


class Notice(Base):
    """A message for one contact, written in the same transaction as the change that causes it.

    ``params`` holds template values (times, the practitioner's name, a staff
    message's text) and never a contact detail.
    """

    __tablename__ = "outbox_notices"
    __table_args__ = (
        Index("ix_outbox_notices_status_due", "status", "due_at"),
        # The relay claims due notices soonest appointment first.
        Index("ix_outbox_notices_status_priority", "status", "priority_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    # NOTE: no foreign key to bookings, because the bookings table belongs to
    # a later migration; the reference is kept beside the id for staff views.
    booking_id: Mapped[int | None] = mapped_column(Integer, index=True)
    reference: Mapped[str | None] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The appointment's start, so notices of the soonest appointments go first.
    priority_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_class: Mapped[str | None] = mapped_column(String(64))
    # Makes a repeated enqueue of the same notice (one running-late step of
    # one booking, say) a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """One try at delivering a notice: ids, channel kind and outcome, never an address or body."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("outbox_notices.id"), index=True)
    # The notice's booking reference, so staff can list deliveries by reference.
    reference: Mapped[str | None] = mapped_column(String(16), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    error_class: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
