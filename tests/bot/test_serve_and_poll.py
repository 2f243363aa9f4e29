"""``sealbook serve`` refuses incomplete channel settings; long polling handles updates like the webhook."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.app import make_dispatcher
from bot.telegram import TelegramChannel, make_bot
from bot.telegram_poll import PollingError, poll_updates
from sealbook.cli import app as cli_app
from sealbook.cli_support import run_app
from sealbook.clock import FixedClock
from sealbook.settings import FrontSettings
from sealbook.standins.server import serve_in_background
from sealbook.standins.telegram_api import TelegramApiStandin
from tests.bot.conftest import BOT_TOKEN, CLINIC, EchoDialogue, sign, sms_params
from tests.bot.loopback import serve_on_loopback

CHAT = {"id": 5551234, "type": "private", "first_name": "Pat"}


TELEGRAM_TOKEN = "700000002:AAE-telegram-token-value"
TWILIO_TOKEN = "twilio-token-value-0123456789"


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
    ],
)
def test_serve_refuses_incomplete_channels(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environment: dict[str, str],
    reason: str,
) -> None:
    """serve exits with one line naming the missing setting, and no secret, when a channel is incomplete."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    exit_code = run_app(cli_app, "sealbook", ["serve", "--home", str(home)])

    error = capsys.readouterr().err
    assert exit_code == 1
    assert len(error.strip().splitlines()) == 1
    assert reason in error
    assert TELEGRAM_TOKEN not in error
    assert TWILIO_TOKEN not in error


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
