"""Simulated patients: each sends messages the way its channel would and reads the bot's replies.

A Telegram patient's messages are updates posted to ``POST /telegram`` with
the secret token, as Telegram would post them. The bot replies through the
real python-telegram-bot client, whose calls the Bot API stand-in records.
An SMS patient's messages are form posts to ``POST /sms`` signed with
twilio's ``RequestValidator`` for the public URL, answered in TwiML. A
console patient talks to the console channel in this process.
"""

from __future__ import annotations

import io
import itertools
import re
import secrets
import threading
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from twilio.request_validator import RequestValidator

from bot.console import run_console_chat
from sealbook.clock import Clock
from sealbook.errors import SealbookError
from sealbook.settings import FrontSettings
from sealbook.standins.telegram_api import TelegramApiStandin

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
_OPTION_LINE = re.compile(r"^\s*([0-9A-Z]{1,2})\) (.+)$")
_REFERENCE = re.compile(r"\b([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b")


class ConversationError(SealbookError):
    """The bot did not offer what a simulated patient expected; the message names the step."""


@dataclass(frozen=True)
class Option:
    """One choice the bot offered: the key to type, its label and, on Telegram, the button's data."""

    key: str
    label: str
    callback_data: str | None = None


@dataclass(frozen=True)
class BotReply:
    """One message from the bot: its text and the choices it offered."""

    text: str
    options: tuple[Option, ...] = ()


@dataclass
class Exchange:
    """The replies to one patient message; none for a message acted on earlier."""

    replies: list[BotReply] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)

    def option(self, *label_starts: str) -> Option:
        """Return the last offered option whose label starts with one of `label_starts`.

        Several starts cover a choice worded differently per channel, such as
        "Yes, book it" on Telegram and "Book it" on SMS.
        """
        for reply in reversed(self.replies):
            for option in reply.options:
                if option.label.startswith(label_starts):
                    return option
        raise ConversationError(f"expected a choice starting {label_starts!r}; the bot sent: {self.text!r}")

    def first_option(self) -> Option:
        """Return the first option of the last reply that offered any."""
        for reply in reversed(self.replies):
            if reply.options:
                return reply.options[0]
        raise ConversationError(f"expected a list of choices; the bot sent: {self.text!r}")

    def reference(self) -> str:
        """Return the booking reference the bot named."""
        match = _REFERENCE.search(self.text)
        if match is None:
            raise ConversationError(f"expected a booking reference; the bot sent: {self.text!r}")
        return match.group(1)


class Patient(Protocol):
    """A patient on one channel, with the identifiers that the leak check searches for."""

    name: str
    channel: str
    canaries: tuple[str, ...]

    def send(self, text: str) -> Exchange:
        """Send free text and return the bot's replies."""
        ...

    def choose(self, option: Option) -> Exchange:
        """Pick an offered option: tap its button on Telegram, type its key elsewhere."""
        ...


def plain_options(text: str) -> tuple[Option, ...]:
    """Read the ``K) label`` lines of a plain-text reply as options."""
    options = []
    for line in text.splitlines():
        match = _OPTION_LINE.match(line)
        if match:
            options.append(Option(key=match.group(1), label=match.group(2).strip()))
    return tuple(options)


def phone_canaries(national: str) -> tuple[str, ...]:
    """Return the forms of an Australian mobile number that must appear nowhere: spaced, national, bare."""
    digits = national.replace(" ", "")
    return (national, digits, digits[1:])


class TelegramPatient:
    """A Telegram user whose updates are posted to the front with the webhook secret."""

    channel = "telegram"
    _update_ids = itertools.count(500_000_001)
    _ids_lock = threading.Lock()

    def __init__(
        self, name: str, chat_id: int, front: httpx.Client, secret: str, standin: TelegramApiStandin
    ) -> None:
        self.name = name
        self.chat_id = chat_id
        self.canaries: tuple[str, ...] = (str(chat_id),)
        self._front = front
        self._secret = secret
        self._standin = standin
        self.last_update: dict[str, Any] | None = None

    def send(self, text: str) -> Exchange:
        message = {
            "message_id": secrets.randbelow(10**6),
            "date": 1_800_000_000,
            "chat": {"id": self.chat_id, "type": "private"},
            "from": {"id": self.chat_id, "is_bot": False, "first_name": "Patient"},
            "text": text,
        }
        return self.post({"update_id": self._next_update_id(), "message": message})

    def choose(self, option: Option) -> Exchange:
        if option.callback_data is None:
            return self.send(option.key)
        query = {
            "id": str(secrets.randbelow(10**12)),
            "from": {"id": self.chat_id, "is_bot": False, "first_name": "Patient"},
            "chat_instance": "1",
            "data": option.callback_data,
            "message": {
                "message_id": 1,
                "date": 1_800_000_000,
                "chat": {"id": self.chat_id, "type": "private"},
                "text": "",
            },
        }
        return self.post({"update_id": self._next_update_id(), "callback_query": query})

    def post(self, update: dict[str, Any]) -> Exchange:
        """Post one update as Telegram would and return the messages the bot then sent to this chat."""
        self.last_update = update
        before = len(self._standin.calls_of("sendMessage"))
        response = self._front.post("/telegram", json=update, headers={TELEGRAM_SECRET_HEADER: self._secret})
        if response.status_code != 200:
            raise ConversationError(f"POST /telegram returned {response.status_code}")
        replies = []
        for call in self._standin.calls_of("sendMessage")[before:]:
            if call.params.get("chat_id") != self.chat_id:
                continue
            markup = call.params.get("reply_markup") or {}
            options = tuple(
                Option(key=str(index), label=button["text"], callback_data=button.get("callback_data"))
                for index, row in enumerate(markup.get("inline_keyboard", []), start=1)
                for button in row
            )
            replies.append(BotReply(str(call.params["text"]), options))
        return Exchange(replies)

    def _next_update_id(self) -> int:
        with self._ids_lock:
            return next(self._update_ids)


class SmsPatient:
    """A mobile phone whose texts reach the front as webhooks signed the way Twilio signs them."""

    channel = "sms"

    def __init__(
        self,
        name: str,
        number: str,
        front: httpx.Client,
        auth_token: str,
        signed_url: str,
        clinic_number: str,
    ) -> None:
        self.name = name
        self.number = number
        self.canaries = phone_canaries(number)
        self._front = front
        self._validator = RequestValidator(auth_token)
        self._signed_url = signed_url
        self._clinic_number = clinic_number
        self.last_params: dict[str, str] | None = None

    @property
    def e164(self) -> str:
        return "+61" + self.number.replace(" ", "")[1:]

    def send(self, text: str) -> Exchange:
        params = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": "AC" + "5" * 32,
            "From": self.e164,
            "To": self._clinic_number,
            "Body": text,
            "NumMedia": "0",
            "NumSegments": "1",
        }
        return self.post(params)

    def choose(self, option: Option) -> Exchange:
        return self.send(option.key)

    def post(self, params: dict[str, str], signature: str | None = None) -> Exchange:
        """Post signed webhook parameters and return the TwiML messages as replies."""
        self.last_params = params
        signed = self._validator.compute_signature(self._signed_url, params)
        response = self._front.post(
            "/sms", data=params, headers={TWILIO_SIGNATURE_HEADER: signature or signed}
        )
        if response.status_code != 200:
            raise ConversationError(f"POST /sms returned {response.status_code}")
        root = ElementTree.fromstring(response.text)  # noqa: S314 - TwiML from our own front on loopback
        texts = [element.text or "" for element in root.iter("Message")]
        return Exchange([BotReply(text, plain_options(text)) for text in texts])


class ConsolePatient:
    """A patient at the console channel, run in this process with the simulation's clock."""

    channel = "console"

    def __init__(self, name: str, number: str, settings: FrontSettings, clock: Clock) -> None:
        self.name = name
        self.number = number
        self.canaries = phone_canaries(number)
        self._settings = settings
        self._clock = clock

    def send(self, text: str) -> Exchange:
        output = io.StringIO()
        run_console_chat(self._settings, self.number, io.StringIO(text + "\n"), output, clock=self._clock)
        replies: list[BotReply] = []
        current: list[str] = []
        for line in output.getvalue().splitlines():
            if line.startswith("bot> "):
                if current:
                    replies.append(_plain_reply(current))
                current = [line[5:]]
            elif line.startswith("     ") and current:
                current.append(line[5:])
        if current:
            replies.append(_plain_reply(current))
        return Exchange(replies)

    def choose(self, option: Option) -> Exchange:
        return self.send(option.key)


def _plain_reply(lines: list[str]) -> BotReply:
    text = "\n".join(lines)
    return BotReply(text, plain_options(text))
