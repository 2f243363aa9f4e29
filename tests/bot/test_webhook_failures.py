"""Webhooks that fail inside: 503 with Retry-After and one log line, never a 500 or a traceback."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from bot.app import create_app, make_dispatcher
from bot.handler import Channel, ContactRef
from bot.telegram import NOT_BOT_API_MESSAGE, TelegramChannel, make_bot
from bot.telegram_poll import poll_updates
from sealbook.clock import FixedClock
from sealbook.settings import FrontSettings
from sealbook.standins.server import serve_in_background
from sealbook.standins.telegram_api import TelegramApiStandin
from storage import db
from tests.bot.conftest import (
    BOT_TOKEN,
    CLINIC,
    PUBLIC_URL,
    TELEGRAM_SECRET,
    WRONG_API_SERVERS,
    EchoDialogue,
    make_wrong_api_server,
    post_sms,
    sms_params,
)

SENDER = "+61491570006"
CHAT_ID = 412345678
MOVED_TABLE = "inbound_messages_moved"


def _rename_table(engine: Engine, old: str, new: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


def _missing_table_error(engine: Engine) -> str:
    """Return the SQLAlchemy class of the error that a missing table raises on this backend."""
    return "OperationalError" if engine.dialect.name == "sqlite" else "ProgrammingError"


def _update(update_id: int, text_value: str) -> dict[str, Any]:
    chat = {"id": CHAT_ID, "type": "private", "first_name": "Pat"}
    message = {
        "message_id": update_id + 1000,
        "date": 1804665600,
        "chat": chat,
        "from": {**chat, "is_bot": False},
        "text": text_value,
    }
    return {"update_id": update_id, "message": message}


async def _post_update(client: httpx.AsyncClient, update: dict[str, Any]) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    return await client.post("/telegram", content=json.dumps(update), headers=headers)


def _our_records(caplog: pytest.LogCaptureFixture, level: int = logging.INFO) -> list[logging.LogRecord]:
    """Return the records of sealbook's own loggers at ``level`` or above."""
    return [
        record
        for record in caplog.records
        if record.levelno >= level and record.name.split(".")[0] in {"bot", "sealbook", "storage"}
    ]


@pytest.fixture
async def lenient_client(webhook_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client that gets a 500 as a response, as Telegram and Twilio would, instead of an exception."""
    transport = httpx.ASGITransport(app=webhook_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        yield http
    await webhook_app.state.telegram_channel.shutdown()


async def test_sms_database_error_returns_503(
    lenient_client: httpx.AsyncClient,
    engine: Engine,
    dialogue: EchoDialogue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A missing table gets 503 with Retry-After and one line naming the class, and the retry is acted on."""
    params = sms_params("hello", sender=SENDER)
    _rename_table(engine, "inbound_messages", MOVED_TABLE)
    with caplog.at_level(logging.INFO):
        failed = await post_sms(lenient_client, params)
    _rename_table(engine, MOVED_TABLE, "inbound_messages")
    redelivered = await post_sms(lenient_client, params)

    assert failed.status_code == 503
    assert failed.headers.get("Retry-After", "").isdigit()
    lines = _our_records(caplog)
    assert len(lines) == 1
    assert lines[0].levelno == logging.ERROR
    assert "sms webhook failed with a database error" in lines[0].getMessage()
    assert _missing_table_error(engine) in lines[0].getMessage()
    assert all(record.exc_info is None for record in caplog.records)
    assert "inbound_messages" not in caplog.text
    assert SENDER not in caplog.text
    assert redelivered.status_code == 200
    assert "echo: hello" in redelivered.text
    assert len(dialogue.turns) == 1


async def test_telegram_database_error_returns_503(
    lenient_client: httpx.AsyncClient,
    engine: Engine,
    telegram_api: tuple[TelegramApiStandin, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A missing table gets 503 with Retry-After and one line with the update id, and the retry is acted on."""
    standin = telegram_api[0]
    update = _update(7, "hello")
    _rename_table(engine, "inbound_messages", MOVED_TABLE)
    with caplog.at_level(logging.INFO):
        failed = await _post_update(lenient_client, update)
    _rename_table(engine, MOVED_TABLE, "inbound_messages")
    sent_while_failing = len(standin.calls_of("sendMessage"))
    redelivered = await _post_update(lenient_client, update)

    assert failed.status_code == 503
    assert failed.headers.get("Retry-After", "").isdigit()
    lines = _our_records(caplog)
    assert len(lines) == 1
    assert "telegram webhook failed on update 7 with a database error" in lines[0].getMessage()
    assert _missing_table_error(engine) in lines[0].getMessage()
    assert all(record.exc_info is None for record in caplog.records)
    assert "inbound_messages" not in caplog.text
    assert str(CHAT_ID) not in caplog.text
    assert sent_while_failing == 0
    assert redelivered.status_code == 200
    assert [call.params["text"] for call in standin.calls_of("sendMessage")] == ["echo: hello"]


async def test_database_outage_returns_503(
    front_settings: FrontSettings, clock: FixedClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With the database file unreachable, both webhooks get 503 with Retry-After and no traceback."""
    unreachable = db.make_engine(f"sqlite+pysqlite:///{tmp_path / 'no-such-folder' / 'sealbook.sqlite3'}")
    app = create_app(
        front_settings, db.make_session_factory(unreachable), clock, EchoDialogue(), clinic=CLINIC
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.INFO):
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            sms = await post_sms(client, sms_params("hello"))
            telegram = await _post_update(client, _update(8, "hello"))
    await app.state.telegram_channel.shutdown()
    unreachable.dispose()

    assert sms.status_code == 503
    assert sms.headers.get("Retry-After", "").isdigit()
    assert telegram.status_code == 503
    assert telegram.headers.get("Retry-After", "").isdigit()
    messages = [record.getMessage() for record in _our_records(caplog)]
    assert messages == [
        "sms webhook failed with a database error (OperationalError); "
        "returned 503 so that the message is delivered again",
        "telegram webhook failed on update 8 with a database error (OperationalError); "
        "returned 503 so that the message is delivered again",
    ]
    assert all(record.exc_info is None for record in caplog.records)


class FailingContacts(EchoDialogue):
    """A dialogue stand-in whose contact lookup fails with a message that quotes the sender."""

    def resolve_contact(
        self, session: Session, channel: Channel, raw_identifier: str, now: datetime
    ) -> ContactRef:
        raise RuntimeError(f"lookup failed for {raw_identifier}")


async def test_unexpected_error_returns_503(
    front_settings: FrontSettings,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Any other exception gets 503 and one line without its message; the traceback is logged at DEBUG only."""
    app = create_app(front_settings, session_factory, clock, FailingContacts(), clinic=CLINIC)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.DEBUG):
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            sms = await post_sms(client, sms_params("hello", sender=SENDER))
            telegram = await _post_update(client, _update(9, "hello"))
    await app.state.telegram_channel.shutdown()

    assert sms.status_code == 503
    assert telegram.status_code == 503
    lines = _our_records(caplog)
    assert [record.getMessage() for record in lines] == [
        "sms webhook failed with an unexpected error (RuntimeError); "
        "returned 503 so that the message is delivered again",
        "telegram webhook failed on update 9 with an unexpected error (RuntimeError); "
        "returned 503 so that the message is delivered again",
    ]
    tracebacks = [record for record in caplog.records if record.exc_info is not None]
    assert [record.levelno for record in tracebacks] == [logging.DEBUG, logging.DEBUG]


async def test_poll_database_error_fetches_again(
    telegram_api: tuple[TelegramApiStandin, str],
    front_settings: FrontSettings,
    engine: Engine,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    dialogue: EchoDialogue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Long polling logs one line for an update that hits a database error and handles it on the next fetch."""
    standin, url = telegram_api
    standin.push_update(_update(41, "hello"))
    dispatcher = make_dispatcher(front_settings, session_factory, clock, dialogue, CLINIC)
    channel = TelegramChannel(make_bot(BOT_TOKEN, url), dispatcher)

    _rename_table(engine, "inbound_messages", MOVED_TABLE)
    with caplog.at_level(logging.INFO):
        failed = await poll_updates(channel, poll_seconds=0, max_rounds=1)
    _rename_table(engine, MOVED_TABLE, "inbound_messages")
    handled = await poll_updates(channel, poll_seconds=0, max_rounds=1)
    await channel.shutdown()

    assert failed == 0
    errors = [record.getMessage() for record in _our_records(caplog, logging.ERROR)]
    assert errors == [
        f"update 41 failed with a database error ({_missing_table_error(engine)}); it will be fetched again"
    ]
    assert all(record.exc_info is None for record in caplog.records)
    assert handled == 1
    assert [call.params["text"] for call in standin.calls_of("sendMessage")] == ["echo: hello"]


async def test_telegram_wrong_api_url_returns_503(
    front_settings: FrontSettings,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With a web page at the Bot API URL, an update gets 503 and one line that names the setting."""
    with serve_in_background(make_wrong_api_server(*WRONG_API_SERVERS[0])) as url:
        settings = dataclasses.replace(front_settings, telegram_api_url=url)
        app = create_app(settings, session_factory, clock, EchoDialogue(), clinic=CLINIC)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        with caplog.at_level(logging.INFO):
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
                response = await _post_update(client, _update(10, "hello"))
        await app.state.telegram_channel.shutdown()

    assert response.status_code == 503
    assert response.headers.get("Retry-After", "").isdigit()
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert warnings == [
        f"telegram webhook failed on update 10: {NOT_BOT_API_MESSAGE}; returned 503 so that it is delivered again"
    ]
    assert all(record.exc_info is None for record in caplog.records)
