"""Telegram sender: `python-telegram-bot`'s `Bot.send_message`, with failures classified."""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from dataclasses import dataclass

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from relay.channels.base import ChannelKind, ChannelStartError, DeliveryError, OutgoingMessage

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"


@dataclass(frozen=True)
class TelegramSettings:
    """Bot token, Bot API root URL (no `/bot` suffix) and the per-request timeout."""

    token: str
    api_url: str = DEFAULT_API_URL
    timeout_seconds: float = 10.0

    def __repr__(self) -> str:
        return f"TelegramSettings(api_url={self.api_url!r}, token=<hidden>)"


class TelegramSender:
    """Send plain-text notices to Telegram chats through one `Bot`.

    Text goes without a parse mode, so nothing in a notice (a staff message, a name)
    is read as Markdown or HTML. `Bot` does not retry on its own, so a failed call
    has been sent at most once.
    """

    def __init__(self, settings: TelegramSettings) -> None:
        self._timeout_seconds = settings.timeout_seconds
        request = HTTPXRequest(
            connection_pool_size=16,
            read_timeout=settings.timeout_seconds,
            write_timeout=settings.timeout_seconds,
            connect_timeout=settings.timeout_seconds,
            pool_timeout=settings.timeout_seconds,
        )
        self._bot = Bot(settings.token, base_url=settings.api_url.rstrip("/") + "/bot", request=request)

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.TELEGRAM

    async def start(self) -> None:
        """Initialise the bot, which calls `getMe` and so checks the token."""
        try:
            await self._bot.initialize()
        except TelegramError as exc:
            await self._bot.shutdown()
            error_class = classify_telegram_error(exc).error_class
            raise ChannelStartError(ChannelKind.TELEGRAM, error_class) from exc
        logger.info("telegram sender started")

    async def send(self, address: str, message: OutgoingMessage) -> None:
        """Send `message.text` to the chat whose decimal id is `address`."""
        try:
            chat_id = int(address)
        except ValueError:
            raise DeliveryError(ChannelKind.TELEGRAM, "telegram.invalid_chat_id", permanent=True) from None

        try:
            await self._bot.send_message(
                chat_id=chat_id,
                text=message.text,
                read_timeout=self._timeout_seconds,
                write_timeout=self._timeout_seconds,
                connect_timeout=self._timeout_seconds,
                pool_timeout=self._timeout_seconds,
            )
        except TelegramError as exc:
            raise classify_telegram_error(exc) from exc

    async def close(self) -> None:
        await self._bot.shutdown()


def classify_telegram_error(exc: TelegramError) -> DeliveryError:
    """Map a `python-telegram-bot` (22.x) exception to a delivery failure class.

    The checks run from the most specific class down, because `BadRequest` and
    `TimedOut` are subclasses of `NetworkError` in that library.
    """
    kind = ChannelKind.TELEGRAM
    if isinstance(exc, RetryAfter):
        return DeliveryError(
            kind,
            "telegram.rate_limited",
            permanent=False,
            retry_after_seconds=_retry_after_seconds(exc),
        )
    if isinstance(exc, Forbidden):
        # 403: the user blocked the bot, deleted the account, or never started the chat.
        return DeliveryError(kind, "telegram.blocked", permanent=True)
    if isinstance(exc, BadRequest):
        # 400: chat not found or a malformed request; sending it again cannot succeed.
        return DeliveryError(kind, "telegram.bad_request", permanent=True)
    if isinstance(exc, ChatMigrated):
        return DeliveryError(kind, "telegram.chat_migrated", permanent=True)
    if isinstance(exc, InvalidToken):
        # A wrong token fails every notice alike; retrying lets a corrected token
        # deliver them, and the worker logs the class so an operator notices.
        return DeliveryError(kind, "telegram.invalid_token", permanent=False)
    if isinstance(exc, TimedOut):
        return DeliveryError(kind, "telegram.timeout", permanent=False)
    if isinstance(exc, NetworkError):
        # Connection failures and 5xx responses.
        return DeliveryError(kind, "telegram.network", permanent=False)
    return DeliveryError(kind, "telegram.error", permanent=False)


def _retry_after_seconds(exc: RetryAfter) -> float:
    # python-telegram-bot 22.2+ warns that `retry_after` will become a timedelta.
    # Both forms are handled below, so the warning needs no action here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        retry_after = exc.retry_after
    if isinstance(retry_after, dt.timedelta):
        return retry_after.total_seconds()
    return float(retry_after)
