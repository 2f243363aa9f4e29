"""Choosing the senders for a run: the console for the embedded default, or the live channels.

With `relay.transport = "console"` every channel goes to the console sender, which
prints the notice for `make demo`. With `"live"` each channel that has its settings
gets its real sender. A channel without settings has no sender, so its notices are
recorded as undeliverable on that channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TextIO

from relay.channels.base import ChannelKind, Sender
from relay.channels.console import ConsoleSender
from relay.channels.email import EmailSender
from relay.channels.sms import SmsSender
from relay.channels.telegram import TelegramSender
from relay.settings import RelayWorkerSettings
from sealbook.clock import Clock

logger = logging.getLogger(__name__)

ROUTES = (ChannelKind.TELEGRAM, ChannelKind.SMS, ChannelKind.EMAIL)


@dataclass(frozen=True)
class Transport:
    """The sender of each usable channel and the rate-limit key of its sending account."""

    senders: dict[ChannelKind, Sender]
    sender_keys: dict[ChannelKind, str]

    async def start(self) -> None:
        """Start every distinct sender once."""
        for sender in _distinct(self.senders):
            await sender.start()

    async def close(self) -> None:
        """Close every distinct sender once."""
        for sender in _distinct(self.senders):
            await sender.close()


def build_transport(settings: RelayWorkerSettings, clock: Clock, console: TextIO | None = None) -> Transport:
    """Build the senders that `settings` configure."""
    if settings.transport == "console":
        printer = ConsoleSender(console)
        return Transport({route: printer for route in ROUTES}, {route: "console" for route in ROUTES})

    senders: dict[ChannelKind, Sender] = {}
    keys: dict[ChannelKind, str] = {}
    telegram = settings.telegram()
    if telegram is not None:
        senders[ChannelKind.TELEGRAM] = TelegramSender(telegram)
        # One bot per relay; the token's numeric prefix is the bot id and no secret.
        keys[ChannelKind.TELEGRAM] = telegram.token.partition(":")[0]
    sms = settings.sms()
    if sms is not None:
        senders[ChannelKind.SMS] = SmsSender(sms)
        keys[ChannelKind.SMS] = sms.from_number
    email = settings.email()
    if email is not None:
        senders[ChannelKind.EMAIL] = EmailSender(email, clock)
        keys[ChannelKind.EMAIL] = f"{email.host}:{email.port}"
    missing = [route.value for route in ROUTES if route not in senders]
    if missing:
        logger.warning("no settings for %s; those notices will be recorded undeliverable", ", ".join(missing))
    return Transport(senders, keys)


def _distinct(senders: dict[ChannelKind, Sender]) -> list[Sender]:
    unique: list[Sender] = []
    for sender in senders.values():
        if not any(sender is seen for seen in unique):
            unique.append(sender)
    return unique
