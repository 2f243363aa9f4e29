"""Types every channel sender shares: the outgoing message, the error types and the protocol."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from sealbook.errors import SealbookError


class ChannelKind(enum.StrEnum):
    """The channel a notice travels on; its value is stored in delivery records."""

    TELEGRAM = "telegram"
    SMS = "sms"
    EMAIL = "email"
    CONSOLE = "console"


@dataclass(frozen=True)
class CalendarAttachment:
    """An iCalendar file and its iTIP method (`REQUEST` or `CANCEL`)."""

    content: bytes
    method: str
    filename: str = "appointment.ics"


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered notice ready for one channel.

    `notice_id` and `reference` identify it in logs and errors. `text` is the body.
    Only e-mail uses `subject` and attaches `calendar`.
    """

    notice_id: int
    reference: str
    text: str
    subject: str = ""
    calendar: CalendarAttachment | None = None


class DeliveryError(SealbookError):
    """A send failed; `error_class` names the cause without any provider text.

    A permanent failure (blocked bot, opted-out or invalid number, missing mailbox)
    fails again on every retry. A temporary one may succeed later, but not before
    `retry_after_seconds` when the provider gave that time.
    """

    def __init__(
        self,
        channel: ChannelKind,
        error_class: str,
        *,
        permanent: bool,
        retry_after_seconds: float | None = None,
    ) -> None:
        self.channel = channel
        self.error_class = error_class
        self.permanent = permanent
        self.retry_after_seconds = retry_after_seconds
        if permanent:
            advice = "it will not be retried; check the contact's channel"
        else:
            advice = "it will be retried with backoff"
        super().__init__(f"{channel} delivery failed with {error_class}; {advice}")


class Sender(Protocol):
    """A channel sender: opened once, used for many sends, closed at shutdown."""

    @property
    def kind(self) -> ChannelKind:
        """The channel this sender delivers on."""
        ...

    async def start(self) -> None:
        """Open connections and check credentials where the channel allows it."""
        ...

    async def send(self, address: str, message: OutgoingMessage) -> None:
        """Deliver `message` to `address`, or raise `DeliveryError`."""
        ...

    async def close(self) -> None:
        """Release connections; the sender is not used afterwards."""
        ...


class ChannelStartError(SealbookError):
    """A sender could not start: its service was unreachable or refused the credentials."""

    def __init__(self, channel: ChannelKind, error_class: str) -> None:
        self.channel = channel
        self.error_class = error_class
        super().__init__(
            f"{channel} sender could not start ({error_class}); check the {channel} "
            "settings and that the service is reachable"
        )
