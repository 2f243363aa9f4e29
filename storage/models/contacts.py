"""Contacts: one row per patient identity on one channel, held only as a pseudonym and a sealed payload."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime

# Channel kinds of a contact row. The console channel pseudonymises a phone
# number exactly like SMS, so it uses "sms" as well.
CONTACT_CHANNELS = ("sms", "telegram", "email")


class Contact(Base):
    """A patient identity: an HMAC pseudonym for lookup and an HPKE-sealed address for the relay.

    Only the front (``bot/``), the relay and the key custodian may read the
    ``pseudonym`` and ``sealed_contact`` columns; the admin tool never loads
    this entity, and on PostgreSQL its role has no privilege on them.
    """

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    pseudonym: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    pseudonym_key_id: Mapped[str] = mapped_column(String(32))
    # Null only between the row's insert and its sealing in the same
    # transaction, because the sealed payload is bound to the row id.
    sealed_contact: Mapped[bytes | None] = mapped_column(LargeBinary)
    seal_key_id: Mapped[str | None] = mapped_column(String(32))
    email_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
