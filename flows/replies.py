"""Inbound events of the dialogue (text or a tapped choice) and the replies it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Channel = Literal["sms", "telegram", "console"]
"""The channel a conversation runs on; the console renders like SMS but has no length limit."""

CHANNELS: tuple[Channel, ...] = ("sms", "telegram", "console")


@dataclass(frozen=True)
class Choice:
    """One option offered with a reply.

    `id` is opaque to adapters: Telegram puts it in a button's callback data
    (at most 64 bytes), and sends it back as a `ChoiceEvent`. It names the
    prompt that offered it, so a tap on an old button is recognised. `key` is
    what a patient types instead on SMS or the console: a number for a list,
    a letter (`Y`, `N`, `B`) for a fixed option.
    """

    id: str
    key: str
    label: str


@dataclass(frozen=True)
class Reply:
    """One message to the patient: text plus the choices offered with it (maybe none)."""

    text: str
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class TextEvent:
    """Free text the patient sent, exactly as received."""

    text: str


@dataclass(frozen=True)
class ChoiceEvent:
    """A tap on an offered choice, carrying that choice's `id`."""

    choice_id: str


InboundEvent = TextEvent | ChoiceEvent
"""Everything a channel adapter can hand to the dialogue."""
