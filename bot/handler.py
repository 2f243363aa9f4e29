"""The contract between the channel adapters and the dialogue behind them.

The adapters verify, parse and de-duplicate; a ``MessageHandler`` turns a
patient's identifier into a contact row and runs one turn of dialogue. The
events and replies are the dialogue's own types from ``flows``. The
adapters have no access to dialogue state, and the handler none to HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.orm import Session

from flows import Choice, ChoiceEvent, InboundEvent, Reply, TextEvent
from sealbook.errors import SealbookError

__all__ = [
    "COMMANDS",
    "Channel",
    "Choice",
    "ChoiceEvent",
    "ContactRef",
    "IdentifierRejected",
    "InboundEvent",
    "MessageHandler",
    "Reply",
    "TextEvent",
]

# The console channel pseudonymises a phone number exactly like SMS and so
# reports itself as "sms" to the handler.
Channel = Literal["sms", "telegram"]

# Commands of the Telegram bot's menu. They reach the dialogue as the text
# ``/name`` (without any ``@botname``), which the dialogue reads as a command.
COMMANDS = frozenset({"start", "help", "book", "mybookings"})


class IdentifierRejected(SealbookError):
    """A sender's identifier cannot be used (an invalid phone number, say); no contact was made."""


@dataclass(frozen=True)
class ContactRef:
    """The contact row behind an identifier: its id and whether it has opted out of SMS."""

    id: int
    opted_out: bool


class MessageHandler(Protocol):
    """The dialogue side of the channels, called once per verified, first-seen inbound message."""

    def resolve_contact(
        self, session: Session, channel: Channel, raw_identifier: str, now: datetime
    ) -> ContactRef:
        """Find or create the contact row for ``raw_identifier`` in the caller's transaction.

        ``raw_identifier`` is a phone number as Twilio reports it or a
        Telegram chat id; it lives in memory only. Raises
        ``IdentifierRejected`` when it is not a usable identifier.
        """
        ...

    def handle(self, contact_id: int, channel: Channel, event: InboundEvent, now: datetime) -> list[Reply]:
        """Run one turn of dialogue for the contact and return the replies to send back.

        Called after the adapter's own transaction has committed; the
        handler opens and commits its own.
        """
        ...
