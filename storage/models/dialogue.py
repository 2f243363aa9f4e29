"""Dialogue state of each contact's conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class DialogueStateRow(Base):
    """Where one contact's conversation stands, saved after every message.

    ``version`` goes up by one on every save, and a save names the version it
    read, so two messages handled at once never both apply to the same state.
    ``state`` holds ids, choices offered and the date and time asked for, never
    message text or a contact detail.
    """

    __tablename__ = "dialogue_states"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    version: Mapped[int] = mapped_column(Integer)
    # The channel the conversation runs on: sms, telegram or console.
    channel: Mapped[str] = mapped_column(String(16))
    # The conversation and its step, copied out of ``state`` for operators' queries.
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
