"""The Telegram channel: updates parsed with python-telegram-bot, replies sent through the Bot API."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import InlineKeyboardButtonLimit
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.dispatch import Dispatcher, Inbound
from bot.handler import COMMANDS, ChoiceEvent, InboundEvent, Reply, TextEvent
from sealbook.errors import SealbookError

logger = logging.getLogger(__name__)

# Message kinds that a patient sends instead of text; each gets a short "please send text".
NON_TEXT_CONTENT = (
    "animation",
    "audio",
    "contact",
    "dice",
    "document",
    "location",
    "photo",
    "poll",
    "sticker",
    "venue",
    "video",
    "video_note",
    "voice",
)
# Exceptions that de_json and attribute access raise on JSON of the wrong shape.
MALFORMED_UPDATE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


NOT_BOT_API_MESSAGE = (
    "the Bot API at SEALBOOK_TELEGRAM_API_URL returned a response that is not Bot API JSON; "
    "check the URL, which must be the server's root without /bot<token>"
)


class NotBotApiResponse(TelegramError):
    """A response that is not Bot API JSON, such as the HTML page of a web server at the wrong URL."""


class BotApiRequest(HTTPXRequest):
    """The HTTP client of the Bot API, which raises ``NotBotApiResponse`` for a body that is not Bot API JSON.

    python-telegram-bot (22.x) logs such a body at ERROR with a traceback
    and then reports it by HTTP status, a 404 as ``InvalidToken``. This
    class raises without logging, and ``is_not_bot_api`` finds the cause.
    """

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        try:
            data = json.loads(payload.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            raise NotBotApiResponse("the response is not JSON") from None
        # Every Bot API response, an error included, is an object with "ok".
        if not isinstance(data, dict) or "ok" not in data:
            raise NotBotApiResponse("the response is JSON without the Bot API's ok field")
        return data


def is_not_bot_api(error: TelegramError) -> bool:
    """Return whether ``error`` comes from a 2xx or 4xx response that is not Bot API JSON.

    The cause chain is searched, because ``Bot.initialize`` wraps the
    ``InvalidToken`` of a 404 in another. A 5xx response stays a
    ``NetworkError``, because a proxy returns HTML while the Bot API behind
    it is down, and a retry can succeed.
    """
    cause: BaseException | None = error
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, NotBotApiResponse):
            return True
        if isinstance(cause, NetworkError):
            return False
        cause = cause.__cause__
    return False


def describe_error(error: TelegramError) -> str:
    """Return the class name of ``error`` for a log line, or ``NotBotApiResponse`` when that is its cause."""
    return NotBotApiResponse.__name__ if is_not_bot_api(error) else type(error).__name__


def make_bot(token: str, api_url: str) -> Bot:
    """Return a Bot API client; ``api_url`` is the server root (empty for Telegram's own)."""
    # getUpdates has a client of its own with one connection, as Bot's default has.
    requests: dict[str, Any] = {
        "request": BotApiRequest(),
        "get_updates_request": BotApiRequest(connection_pool_size=1),
    }
    if not api_url:
        return Bot(token, **requests)
    # The Bot API serves each method at ROOT/bot<token>/<method>.
    return Bot(token, base_url=api_url.rstrip("/") + "/bot", **requests)


@dataclass(frozen=True)
class _Target:
    """Sender and request of an update: the private chat id and the event."""

    chat_id: int = field(repr=False)
    event: InboundEvent | None = field(repr=False)
    callback_query: CallbackQuery | None = field(default=None, repr=False)


class TelegramUnavailable(SealbookError):
    """The Bot API could not be reached to initialise the client; the update should be redelivered."""


class TelegramChannel:
    """Handles Telegram updates, from the webhook or from long polling, for one bot."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher) -> None:
        self.bot = bot
        self._dispatcher = dispatcher
        self._ready_lock = asyncio.Lock()
        self._ready = False

    async def ensure_ready(self) -> None:
        """Initialise the client once (it calls ``getMe``); raise ``TelegramUnavailable`` on failure.

        The caller logs or prints the exception's message, which names the
        setting to check and never the token.
        """
        if self._ready:
            return
        async with self._ready_lock:
            if self._ready:
                return
            try:
                await self.bot.initialize()
            except TelegramError as error:
                # The message of InvalidToken contains the token, so it is not passed on.
                raise TelegramUnavailable(_describe_initialise_failure(error)) from None
            self._ready = True

    async def shutdown(self) -> None:
        """Close the client's connections, which a failed ``ensure_ready`` may also have opened."""
        await self.bot.shutdown()
        self._ready = False

    async def handle_json(self, data: object) -> None:
        """Parse a decoded update with ``Update.de_json`` and handle it; malformed ones are ignored."""
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            logger.info("Telegram update without an integer update_id ignored")
            return
        try:
            update = Update.de_json(data, self.bot)
        except MALFORMED_UPDATE_ERRORS:
            logger.info("malformed Telegram update %d ignored", data["update_id"])
            return
        await self.handle_update(update)

    async def handle_update(self, update: Update) -> None:
        """Dispatch one update once, answer its callback query and send the replies."""
        try:
            target = _target_of(update)
        except MALFORMED_UPDATE_ERRORS:
            logger.info("malformed Telegram update %d ignored", update.update_id)
            return
        if target is None:
            logger.debug("Telegram update %d of a kind the bot does not handle ignored", update.update_id)
            return
        await self.ensure_ready()

        inbound = Inbound(
            channel="telegram",
            message_id=str(update.update_id),
            sender=str(target.chat_id),
            event=target.event,
        )
        result = await run_in_threadpool(self._dispatcher.process, inbound)
        if result.duplicate:
            return
        if target.callback_query is not None:
            await self._answer(target.callback_query, result.contact_id)
        delivered = 0
        for reply in result.replies:
            if await self._send(target.chat_id, reply, result.contact_id):
                delivered += 1
        # The relay skips the turn's confirmation only when every reply arrived.
        # Otherwise it sends the confirmation, with the booking reference, itself.
        if result.replies and delivered == len(result.replies):
            await run_in_threadpool(self._dispatcher.record_replies_delivered, result)

    async def _answer(self, query: CallbackQuery, contact_id: int | None) -> None:
        try:
            await query.answer()
        except TelegramError as error:
            logger.warning("answerCallbackQuery failed for contact %s: %s", contact_id, describe_error(error))

    async def _send(self, chat_id: int, reply: Reply, contact_id: int | None) -> bool:
        """Send one reply and return whether the Bot API accepted it."""
        text, keyboard = render_telegram(reply)
        try:
            await self.bot.send_message(chat_id=chat_id, text=text, reply_markup=keyboard)
        except TelegramError as error:
            logger.warning("sendMessage failed for contact %s: %s", contact_id, describe_error(error))
            return False
        return True


def _describe_initialise_failure(error: TelegramError) -> str:
    if is_not_bot_api(error):
        return NOT_BOT_API_MESSAGE
    if isinstance(error, InvalidToken | Forbidden):
        return "Telegram rejected the bot token; check SEALBOOK_TELEGRAM_TOKEN"
    return (
        f"cannot reach the Telegram Bot API ({type(error).__name__}); "
        "check SEALBOOK_TELEGRAM_API_URL and the network"
    )


def render_telegram(reply: Reply) -> tuple[str, InlineKeyboardMarkup | None]:
    """Render a reply as text with one inline button per choice, the choice id as callback data.

    Telegram limits callback data to 64 bytes. If any choice id is longer,
    the choices are listed as ``key) label`` lines instead, and the dialogue
    accepts typed keys.
    """
    if not reply.choices:
        return reply.text, None
    limit = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
    if any(len(choice.id.encode("utf-8")) > limit for choice in reply.choices):
        logger.warning("a choice id is longer than %d bytes; choices sent as text lines", limit)
        lines = [reply.text]
        lines.extend(f"{choice.key}) {choice.label}" for choice in reply.choices)
        return "\n".join(lines), None
    buttons = [[InlineKeyboardButton(choice.label, callback_data=choice.id)] for choice in reply.choices]
    return reply.text, InlineKeyboardMarkup(buttons)


def _target_of(update: Update) -> _Target | None:
    """Return the private chat and the event of an update, or None for updates the bot ignores."""
    query = update.callback_query
    if query is not None:
        return _target_of_callback(query)
    message = update.message
    if message is None:
        # Edited messages, channel posts, membership changes and the rest.
        return None
    return _target_of_message(message)


def _target_of_callback(query: CallbackQuery) -> _Target | None:
    chat = query.message.chat if query.message is not None else None
    if chat is not None and chat.type != "private":
        return None
    user_id = query.from_user.id
    if type(user_id) is not int:
        return None
    data = query.data
    if not isinstance(data, str) or not data:
        # A game button or a button of another bot: the bot offered no such choice.
        return _Target(chat_id=user_id, event=None, callback_query=query)
    return _Target(chat_id=user_id, event=ChoiceEvent(data), callback_query=query)


def _target_of_message(message: Message) -> _Target | None:
    chat = message.chat
    if chat.type != "private" or type(chat.id) is not int:
        return None
    text = message.text
    if isinstance(text, str) and text.strip():
        return _Target(chat_id=chat.id, event=_event_of_text(text))
    if any(getattr(message, kind, None) for kind in NON_TEXT_CONTENT):
        return _Target(chat_id=chat.id, event=None)
    return None


def _event_of_text(text: str) -> InboundEvent:
    """Turn ``/book`` or ``/Book@SomeBot extra`` into the text ``/book``; other text passes unchanged."""
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1:
        name = stripped[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
        if name in COMMANDS:
            return TextEvent(f"/{name}")
    return TextEvent(stripped)
