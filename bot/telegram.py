"""The Telegram channel: updates parsed with python-telegram-bot, replies sent through the Bot API."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import InlineKeyboardButtonLimit
from telegram.error import TelegramError

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


def make_bot(token: str, api_url: str) -> Bot:
    """Return a Bot API client; ``api_url`` is the server root (empty for Telegram's own)."""
    if not api_url:
        return Bot(token)
    # The Bot API serves each method at ROOT/bot<token>/<method>.
    return Bot(token, base_url=api_url.rstrip("/") + "/bot")


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
        """Initialise the client once (it calls ``getMe``); raise ``TelegramUnavailable`` on failure."""
        if self._ready:
            return
        async with self._ready_lock:
            if self._ready:
                return
            try:
                await self.bot.initialize()
            except TelegramError as error:
                # The message of InvalidToken contains the token, so only the class is logged.
                logger.error("Bot API initialisation failed: %s", type(error).__name__)
                raise TelegramUnavailable(
                    "cannot initialise the Telegram Bot API client; check SEALBOOK_TELEGRAM_TOKEN, "
                    "SEALBOOK_TELEGRAM_API_URL and the network"
                ) from None
            self._ready = True

    async def shutdown(self) -> None:
        """Close the client's connections."""
        if self._ready:
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
        for reply in result.replies:
            await self._send(target.chat_id, reply, result.contact_id)

    async def _answer(self, query: CallbackQuery, contact_id: int | None) -> None:
        try:
            await query.answer()
        except TelegramError as error:
            logger.warning("answerCallbackQuery failed for contact %s: %s", contact_id, type(error).__name__)

    async def _send(self, chat_id: int, reply: Reply, contact_id: int | None) -> None:
        text, keyboard = render_telegram(reply)
        try:
            await self.bot.send_message(chat_id=chat_id, text=text, reply_markup=keyboard)
        except TelegramError as error:
            logger.warning("sendMessage failed for contact %s: %s", contact_id, type(error).__name__)


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
