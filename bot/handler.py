"""The contract between the channel adapters and the dialogue behind them.

The adapters verify, parse and de-duplicate; a ``MessageHandler`` turns a
patient's identifier into a contact row and runs one turn of dialogue. The
adapters have no access to dialogue state, and the handler none to HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.orm import Session

from sealbook.errors import SealbookError

# The console channel pseudonymises a phone number exactly like SMS and so
# reports itself as "sms" to the handler.
Channel = Literal["sms", "telegram"]

# Commands a patient can send on Telegram as ``/name``; other channels send them as text.
COMMANDS = frozenset({"start", "help", "book", "mybookings"})


class IdentifierRejected(SealbookError):
    """A sender's identifier cannot be used (an invalid phone number, say); no contact was made."""


@dataclass(frozen=True)
class InboundEvent:
    """One thing a patient did: typed text, tapped an offered choice, or sent a command.

    Exactly one of the three fields is set.
    """

    text: str | None = None
    choice_id: str | None = None
    command: str | None = None

    def __post_init__(self) -> None:
        given = [value for value in (self.text, self.choice_id, self.command) if value is not None]
        if len(given) != 1:
            raise ValueError("an InboundEvent needs exactly one of text, choice_id and command")
        if self.command is not None and self.command not in COMMANDS:
            raise ValueError(f"unknown command {self.command!r}; expected one of {sorted(COMMANDS)}")


@dataclass(frozen=True)
class Choice:
    """An option offered with a reply: the id the dialogue gave it and the label shown."""

    id: str
    label: str


@dataclass(frozen=True)
class Reply:
    """A message to send back to the patient, with the choices it offers (possibly none)."""

    text: str
    choices: tuple[Choice, ...] = field(default=())


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
