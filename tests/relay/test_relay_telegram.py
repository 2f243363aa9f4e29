"""Telegram delivery with the real python-telegram-bot `Bot` against the Bot API stand-in."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot

from relay.channels.base import ChannelStartError, DeliveryError, OutgoingMessage
from relay.channels.telegram import TelegramSender, TelegramSettings
from sealbook.standins.telegram_api import TelegramApiStandin, TelegramFailure

CHAT_ID = 5550001
MESSAGE = OutgoingMessage(notice_id=7, reference="K7QM-4X2P", text="Dr Lee is running late.")


@pytest_asyncio.fixture
async def sender(telegram_settings: TelegramSettings) -> AsyncIterator[TelegramSender]:
    """A started sender pointed at the stand-in."""
    sender = TelegramSender(telegram_settings)
    await sender.start()
    yield sender
    await sender.close()


@pytest.mark.asyncio
async def test_send_message_reaches_standin(sender: TelegramSender, telegram_api: TelegramApiStandin) -> None:
    """A send calls getMe once at start, then sendMessage with the chat id and plain text."""
    await sender.send(str(CHAT_ID), MESSAGE)

    assert [call.method for call in telegram_api.calls] == ["getMe", "sendMessage"]
    params = telegram_api.calls_of("sendMessage")[0].params
    assert params["chat_id"] == CHAT_ID
    assert params["text"] == MESSAGE.text
    assert "parse_mode" not in params
    assert telegram_api.sent_texts(CHAT_ID) == [MESSAGE.text]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("failure", "error_class"),
    [
        (TelegramFailure.BLOCKED, "telegram.blocked"),
        (TelegramFailure.CHAT_NOT_FOUND, "telegram.bad_request"),
    ],
)
async def test_permanent_failures(
    sender: TelegramSender,
    telegram_api: TelegramApiStandin,
    failure: TelegramFailure,
    error_class: str,
) -> None:
    """A blocked bot or unknown chat is a permanent failure whose message has no provider text."""
    telegram_api.fail_chat(CHAT_ID, failure)

    with pytest.raises(DeliveryError) as caught:
        await sender.send(str(CHAT_ID), MESSAGE)

    assert caught.value.permanent is True
    assert caught.value.error_class == error_class
    assert str(CHAT_ID) not in str(caught.value)
    assert "blocked by the user" not in str(caught.value)
    assert "chat not found" not in str(caught.value)
    assert telegram_api.sent_texts() == []


@pytest.mark.asyncio
# python-telegram-bot 22.x warns, when it builds RetryAfter, that the attribute will
# become a timedelta; the sender reads both forms.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limit_carries_retry_after(
    sender: TelegramSender, telegram_api: TelegramApiStandin
) -> None:
    """A 429 response is temporary and carries the Bot API's retry_after in seconds."""
    telegram_api.fail_chat(CHAT_ID, TelegramFailure.RATE_LIMITED, times=1, retry_after_seconds=7)

    with pytest.raises(DeliveryError) as caught:
        await sender.send(str(CHAT_ID), MESSAGE)

    assert caught.value.permanent is False
    assert caught.value.error_class == "telegram.rate_limited"
    assert caught.value.retry_after_seconds == 7.0

    await sender.send(str(CHAT_ID), MESSAGE)
    assert telegram_api.sent_texts(CHAT_ID) == [MESSAGE.text]


@pytest.mark.asyncio
async def test_server_error_is_temporary_and_sent_once(
    sender: TelegramSender, telegram_api: TelegramApiStandin
) -> None:
    """A 500 response is a temporary failure, and the client made exactly one attempt."""
    telegram_api.fail_chat(CHAT_ID, TelegramFailure.SERVER_ERROR)

    with pytest.raises(DeliveryError) as caught:
        await sender.send(str(CHAT_ID), MESSAGE)

    assert caught.value.permanent is False
    assert caught.value.error_class == "telegram.network"
    assert len(telegram_api.calls_of("sendMessage")) == 1


@pytest.mark.asyncio
async def test_failure_for_one_chat_spares_others(
    sender: TelegramSender, telegram_api: TelegramApiStandin
) -> None:
    """A chat that blocked the bot does not stop sends to another chat."""
    telegram_api.fail_chat(CHAT_ID, TelegramFailure.BLOCKED)

    with pytest.raises(DeliveryError):
        await sender.send(str(CHAT_ID), MESSAGE)
    await sender.send(str(CHAT_ID + 1), MESSAGE)

    assert telegram_api.sent_texts(CHAT_ID + 1) == [MESSAGE.text]


@pytest.mark.asyncio
async def test_non_numeric_chat_id_is_permanent(
    sender: TelegramSender, telegram_api: TelegramApiStandin
) -> None:
    """An address that is not a decimal chat id fails permanently without a request."""
    with pytest.raises(DeliveryError) as caught:
        await sender.send("@someone", MESSAGE)

    assert caught.value.error_class == "telegram.invalid_chat_id"
    assert telegram_api.calls_of("sendMessage") == []


@pytest.mark.asyncio
async def test_wrong_token_fails_start(telegram_settings: TelegramSettings) -> None:
    """A token the Bot API does not know stops the sender at start, naming the class only."""
    sender = TelegramSender(dataclasses.replace(telegram_settings, token="999:wrong"))

    with pytest.raises(ChannelStartError) as caught:
        await sender.start()

    assert caught.value.error_class == "telegram.invalid_token"
    assert "999:wrong" not in str(caught.value)


@pytest.mark.asyncio
async def test_standin_serves_updates_and_webhook(
    telegram_api: TelegramApiStandin, telegram_settings: TelegramSettings
) -> None:
    """The stand-in queues updates for getUpdates, confirms them by offset, and records webhooks."""
    first = telegram_api.push_update({"message": _message_json(1, "hello")})
    telegram_api.push_update({"message": _message_json(2, "again")})

    base_url = telegram_settings.api_url + "/bot"
    async with Bot(telegram_settings.token, base_url=base_url) as bot:
        updates = await bot.get_updates(timeout=0)
        assert [update.update_id for update in updates] == [first, first + 1]
        assert updates[0].message is not None
        assert updates[0].message.text == "hello"
        remaining = await bot.get_updates(offset=first + 1, timeout=0)
        assert [update.update_id for update in remaining] == [first + 1]

        assert await bot.set_webhook("https://front.example/telegram", secret_token="s3cret")
        assert telegram_api.webhook_url == "https://front.example/telegram"
        assert await bot.delete_webhook()
        assert telegram_api.webhook_url is None


def _message_json(message_id: int, text: str) -> dict[str, object]:
    return {
        "message_id": message_id,
        "date": 1767225600,
        "chat": {"id": CHAT_ID, "type": "private"},
        "from": {"id": CHAT_ID, "is_bot": False, "first_name": "Pat"},
        "text": text,
    }
