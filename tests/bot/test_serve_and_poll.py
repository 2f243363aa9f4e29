"""``sealbook serve`` rejects unusable channel settings; long polling handles updates like the webhook."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from booking.clinic_file import DEMO_CLINIC, load_clinic_file
from booking.store import import_clinic
from bot.app import check_channels, create_app, make_dispatcher
from bot.telegram import NOT_BOT_API_MESSAGE, TelegramChannel, make_bot
from bot.telegram_poll import PollingError, poll_updates
from sealbook.cli import app as cli_app
from sealbook.cli_support import run_app
from sealbook.clock import FixedClock
from sealbook.settings import FrontSettings
from sealbook.standins.server import serve_in_background
from sealbook.standins.telegram_api import TelegramApiStandin
from storage import db
from tests.bot.conftest import (
    BOT_TOKEN,
    CLINIC,
    PUBLIC_URL,
    WRONG_API_SERVERS,
    EchoDialogue,
    make_wrong_api_server,
    sign,
    sms_params,
)
from tests.bot.loopback import serve_on_loopback

CHAT = {"id": 5551234, "type": "private", "first_name": "Pat"}


TELEGRAM_TOKEN = "700000002:AAE-telegram-token-value"
TWILIO_TOKEN = "twilio-token-value-0123456789"
SMS_ENVIRONMENT = {"SEALBOOK_TWILIO_AUTH_TOKEN": TWILIO_TOKEN}
TELEGRAM_ENVIRONMENT = {
    "SEALBOOK_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
    "SEALBOOK_TELEGRAM_SECRET": "valid-secret_0123",
}


@pytest.mark.parametrize(
    ("environment", "reason"),
    [
        ({}, "no channel is enabled"),
        ({"SEALBOOK_TELEGRAM_TOKEN": TELEGRAM_TOKEN}, "SEALBOOK_TELEGRAM_SECRET is not set"),
        ({"SEALBOOK_TWILIO_AUTH_TOKEN": TWILIO_TOKEN}, "SEALBOOK_PUBLIC_URL is not set"),
        (
            {"SEALBOOK_TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "SEALBOOK_PUBLIC_URL": "book.example.org"},
            "absolute URL",
        ),
        (
            {
                "SEALBOOK_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                "SEALBOOK_PUBLIC_URL": "https://book.example.org",
                "SEALBOOK_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            },
            "SEALBOOK_TELEGRAM_SECRET is not set",
        ),
        ({**SMS_ENVIRONMENT, "SEALBOOK_PUBLIC_URL": "ftp://book.example.org"}, "absolute URL"),
        ({**SMS_ENVIRONMENT, "SEALBOOK_PUBLIC_URL": "https://"}, "absolute URL"),
        ({**SMS_ENVIRONMENT, "SEALBOOK_PUBLIC_URL": "https://book.example.org:https"}, "not a valid URL"),
        ({**SMS_ENVIRONMENT, "SEALBOOK_PUBLIC_URL": "https://b.example.org/sms"}, "ends in /sms"),
        ({**SMS_ENVIRONMENT, "SEALBOOK_PUBLIC_URL": "https://b.example.org/base/SMS/"}, "ends in /sms"),
        ({**SMS_ENVIRONMENT, "SEALBOOK_PUBLIC_URL": "https://b.example.org/telegram"}, "ends in /telegram"),
        (
            {**SMS_ENVIRONMENT, "SEALBOOK_PUBLIC_URL": "https://b.example.org/?via=proxy"},
            "no query string or fragment",
        ),
        (
            {**SMS_ENVIRONMENT, "SEALBOOK_PUBLIC_URL": "https://b.example.org/#rc=3"},
            "no query string or fragment",
        ),
        ({**TELEGRAM_ENVIRONMENT, "SEALBOOK_TELEGRAM_SECRET": "bad secret!"}, "1 to 256 characters"),
        ({**TELEGRAM_ENVIRONMENT, "SEALBOOK_TELEGRAM_SECRET": "a" * 257}, "1 to 256 characters"),
        (
            {**TELEGRAM_ENVIRONMENT, "SEALBOOK_PUBLIC_URL": "https://b.example.org/telegram"},
            "ends in /telegram",
        ),
    ],
)
def test_serve_rejects_channel_settings(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environment: dict[str, str],
    reason: str,
) -> None:
    """serve exits with one line naming the missing or invalid setting, and no secret."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    exit_code = run_app(cli_app, "sealbook", ["serve", "--home", str(home)])

    error = capsys.readouterr().err
    assert exit_code == 1
    assert len(error.strip().splitlines()) == 1
    assert reason in error
    assert TELEGRAM_TOKEN not in error
    assert TWILIO_TOKEN not in error
    assert "bad secret!" not in error


@pytest.mark.parametrize(
    "public_url",
    [
        "https://book.example.org",
        "https://book.example.org/",
        "https://book.example.org/sealbook",
        "https://book.example.org/smsgateway",
        "http://127.0.0.1:8080",
    ],
)
def test_public_url_accepted(tmp_path: Path, public_url: str) -> None:
    """A base URL, with or without a path of its own, passes the channel check."""
    settings = FrontSettings(home=tmp_path, twilio_auth_token=TWILIO_TOKEN, public_url=public_url)

    assert check_channels(settings).sms


@pytest.mark.parametrize("secret", ["A", "a" * 256, "abc_DEF-123"])
def test_telegram_secret_accepted(tmp_path: Path, secret: str) -> None:
    """A secret of 1 to 256 characters from setWebhook's alphabet passes the channel check."""
    settings = FrontSettings(home=tmp_path, telegram_token=TELEGRAM_TOKEN, telegram_secret=secret)

    assert check_channels(settings).telegram


async def test_base_path_signs_full_url(
    front_settings: FrontSettings,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    dialogue: EchoDialogue,
) -> None:
    """With a base path, Twilio's signature covers BASE/sms, which a proxy forwards to /sms."""
    base = "https://book.example.org/sealbook"
    settings = dataclasses.replace(front_settings, public_url=base)
    app = create_app(settings, session_factory, clock, dialogue, clinic=CLINIC)
    params = sms_params("hello under a base path")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    # The proxy strips the base path, so the app receives /sms.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
        signed_for_base = await client.post(
            "/sms",
            content=urlencode(params),
            headers={**headers, "X-Twilio-Signature": sign(params, base + "/sms")},
        )
        signed_for_root = await client.post(
            "/sms", content=urlencode(params), headers={**headers, "X-Twilio-Signature": sign(params)}
        )
    await app.state.telegram_channel.shutdown()

    assert signed_for_base.status_code == 200
    assert "echo: hello under a base path" in signed_for_base.text
    assert signed_for_root.status_code == 403


def _update(update_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1804665600,
            "chat": CHAT,
            "from": {**CHAT, "is_bot": False},
            "text": text,
        },
    }


async def test_poll_handles_updates_once(
    telegram_api: tuple[TelegramApiStandin, str],
    front_settings: FrontSettings,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    dialogue: EchoDialogue,
) -> None:
    """Long polling replies to each queued update once, and a re-fetched one is not acted on again."""
    standin, url = telegram_api
    standin.push_update(_update(31, "hello"))
    standin.push_update(_update(32, "/book"))
    dispatcher = make_dispatcher(front_settings, session_factory, clock, dialogue, CLINIC)
    channel = TelegramChannel(make_bot(BOT_TOKEN, url), dispatcher)

    handled = await poll_updates(channel, poll_seconds=0, max_rounds=2)
    standin.push_update(_update(32, "/book"))
    again = await poll_updates(channel, poll_seconds=0, max_rounds=1)
    await channel.shutdown()

    assert handled == 2
    assert again == 1
    texts = [call.params["text"] for call in standin.calls_of("sendMessage")]
    assert texts == ["echo: hello", "echo: /book"]
    assert len(dialogue.turns) == 2


async def _webhook_is_set(request: Request) -> JSONResponse:
    """Answer as the Bot API does while a webhook is set: getMe works, getUpdates conflicts."""
    if request.path_params["method"] == "getMe":
        user = {"id": 700000001, "is_bot": True, "first_name": "sealbook", "username": "sb_bot"}
        return JSONResponse({"ok": True, "result": user})
    description = "Conflict: can't use getUpdates method while webhook is active"
    return JSONResponse({"ok": False, "error_code": 409, "description": description}, status_code=409)


async def test_poll_stops_when_webhook_is_set(
    front_settings: FrontSettings,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    dialogue: EchoDialogue,
) -> None:
    """With a webhook set, polling stops with an error that points to serve or deleteWebhook."""
    api = Starlette(routes=[Route("/bot{token}/{method}", _webhook_is_set, methods=["POST"])])
    dispatcher = make_dispatcher(front_settings, session_factory, clock, dialogue, CLINIC)
    with serve_in_background(api) as url:
        channel = TelegramChannel(make_bot(BOT_TOKEN, url), dispatcher)
        with pytest.raises(PollingError, match="webhook is set"):
            await poll_updates(channel, poll_seconds=0, max_rounds=1)
        await channel.shutdown()


@pytest.fixture
def ready_home(home: Path, clock: FixedClock) -> Path:
    """Return a home with a migrated SQLite database and the demo clinic imported."""
    engine = db.make_engine(f"sqlite+pysqlite:///{home / 'sealbook.sqlite3'}")
    db.upgrade(engine)
    with db.session_scope(db.make_session_factory(engine)) as session:
        import_clinic(session, load_clinic_file(DEMO_CLINIC, now=clock.now()), clock.now())
    engine.dispose()
    return home


@pytest.fixture
def saved_logging() -> Iterator[None]:
    """Restore the root logger after a command has configured logging onto the captured stderr."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    yield
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


@pytest.mark.parametrize(("status", "body", "media_type"), WRONG_API_SERVERS)
@pytest.mark.usefixtures("saved_logging")
def test_poll_rejects_wrong_api_url(
    ready_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    status: int,
    body: str,
    media_type: str,
) -> None:
    """telegram-poll against a server that is not a Bot API exits with one line that names the setting."""
    monkeypatch.setenv("SEALBOOK_TELEGRAM_TOKEN", TELEGRAM_TOKEN)
    with serve_in_background(make_wrong_api_server(status, body, media_type)) as url:
        monkeypatch.setenv("SEALBOOK_TELEGRAM_API_URL", url)
        exit_code = run_app(cli_app, "sealbook", ["telegram-poll", "--home", str(ready_home)])

    error = capsys.readouterr().err
    printed = [line for line in error.splitlines() if line.startswith("sealbook: ")]
    assert exit_code == 1
    assert printed == [f"sealbook: {NOT_BOT_API_MESSAGE}"]
    assert "Traceback" not in error
    assert " ERROR " not in error
    assert "InvalidToken" not in error
    assert TELEGRAM_TOKEN not in error


async def _updates_as_html(request: Request) -> Response:
    """Return a user for getMe and an HTML page for every other method."""
    if request.path_params["method"] == "getMe":
        user = {"id": 700000001, "is_bot": True, "first_name": "sealbook", "username": "sb_bot"}
        return JSONResponse({"ok": True, "result": user})
    return HTMLResponse("<html><body>Service moved</body></html>")


async def test_poll_stops_on_html_updates(
    front_settings: FrontSettings,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    dialogue: EchoDialogue,
) -> None:
    """An HTML page in place of getUpdates stops polling with the message that names the setting."""
    api = Starlette(routes=[Route("/bot{token}/{method}", _updates_as_html, methods=["POST"])])
    dispatcher = make_dispatcher(front_settings, session_factory, clock, dialogue, CLINIC)
    with serve_in_background(api) as url:
        channel = TelegramChannel(make_bot(BOT_TOKEN, url), dispatcher)
        with pytest.raises(PollingError) as raised:
            await poll_updates(channel, poll_seconds=0, max_rounds=1)
        await channel.shutdown()

    assert str(raised.value) == NOT_BOT_API_MESSAGE


def test_app_over_real_http(webhook_app: Starlette, dialogue: EchoDialogue) -> None:
    """Served by uvicorn on loopback, the app answers /healthz and a signed SMS, and refuses a chunked flood."""
    params = sms_params("hello over http")
    with serve_on_loopback(webhook_app, lifespan="on") as url, httpx.Client(base_url=url) as http:
        health = http.get("/healthz")
        reply = http.post(
            "/sms",
            content=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign(params)},
        )
        flood = http.post(
            "/sms",
            content=iter([b"Body=" + b"x" * 16384] * 8),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
        )

    assert health.json() == {"status": "ok"}
    assert "<Message>echo: hello over http</Message>" in reply.text
    assert flood.status_code == 413
    assert len(dialogue.turns) == 1
