"""Fixtures of the channel tests: an echo dialogue, the webhook app, a Bot API stand-in, signing."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.dispatch import ClinicInfo
from bot.handler import Channel, Choice, ChoiceEvent, ContactRef, IdentifierRejected, InboundEvent, Reply
from sealbook.clock import FixedClock
from sealbook.settings import FrontSettings
from sealbook.standins.telegram_api import TelegramApiStandin
from storage.models.contacts import Contact
from tests.conftest import StandinHost

PUBLIC_URL = "https://book.example.org"
SMS_URL = PUBLIC_URL + "/sms"
TWILIO_TOKEN = "twilio-auth-token-for-tests"
BOT_TOKEN = "700000001:test-bot-token"
TELEGRAM_SECRET = "telegram-webhook-secret-for-tests"
CLINIC = ClinicInfo(name="Harbour Street Medical", phone="02 9999 0000")
_PSEUDONYM_KEY = b"k" * 32


@dataclass
class EchoDialogue:
    """A test stand-in for contact resolution and the dialogue: pseudonymised rows, echoed replies.

    ``choices`` gets a reply with two choices and ``boom`` raises, so tests
    can see buttons rendered and failures contained.
    """

    turns: list[tuple[int, Channel, InboundEvent]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def resolve_contact(
        self, session: Session, channel: Channel, raw_identifier: str, now: datetime
    ) -> ContactRef:
        if not raw_identifier.lstrip("+").isdigit():
            raise IdentifierRejected("the sender identifier is not a phone number or chat id")
        pseudonym = hmac.new(_PSEUDONYM_KEY, f"{channel}:{raw_identifier}".encode(), hashlib.sha256).digest()
        contact = session.scalar(select(Contact).where(Contact.pseudonym == pseudonym))
        if contact is None:
            contact = Contact(channel=channel, pseudonym=pseudonym, pseudonym_key_id="t1", created_at=now)
            session.add(contact)
            session.flush()
        return ContactRef(id=contact.id, opted_out=contact.opted_out_at is not None)

    def handle(self, contact_id: int, channel: Channel, event: InboundEvent, now: datetime) -> list[Reply]:
        with self.lock:
            self.turns.append((contact_id, channel, event))
        said = event.choice_id if isinstance(event, ChoiceEvent) else event.text
        if said == "boom":
            raise RuntimeError("dialogue failure for the test")
        if said == "choices":
            return [Reply("Pick a time", (Choice("c1", "1", "Tue 9:00am"), Choice("c2", "2", "Wed 10:30am")))]
        return [Reply(f"echo: {said}")]


def sign(params: dict[str, str], url: str = SMS_URL, token: str = TWILIO_TOKEN) -> str:
    """Return the X-Twilio-Signature that Twilio would send for these parameters and URL."""
    return str(RequestValidator(token).compute_signature(url, params))


def sms_params(
    body: str, sid: str = "SM" + "a" * 32, sender: str = "+61491570006", **extra: str
) -> dict[str, str]:
    """Return the form parameters of an inbound SMS webhook, as Twilio sends them."""
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+61291234567",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }
    params.update(extra)
    return params


async def post_sms(
    client: httpx.AsyncClient, params: dict[str, str], signature: str | None = None
) -> httpx.Response:
    """Post a form-encoded SMS webhook, signed correctly unless a signature is given."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    headers["X-Twilio-Signature"] = sign(params) if signature is None else signature
    return await client.post("/sms", content=urlencode(params), headers=headers)


def make_wrong_api_server(status: int, body: str, media_type: str) -> Starlette:
    """Return a web server that returns one page for every path, as a server at a wrong Bot API URL does."""

    async def page(_request: Request) -> Response:
        return Response(body, status_code=status, media_type=media_type)

    return Starlette(routes=[Route("/{path:path}", page, methods=["GET", "POST"])])


# Servers that a wrong SEALBOOK_TELEGRAM_API_URL can reach: (status, body, media type).
WRONG_API_SERVERS = [
    (200, "<html><body><h1>Welcome to nginx!</h1></body></html>", "text/html"),
    (404, "<html><body><h1>404 Not Found</h1></body></html>", "text/html"),
    (200, '{"status": "up"}', "application/json"),
]


def count_rows(session_factory: sessionmaker[Session], model: type[object]) -> int:
    """Return the number of rows of a model's table."""
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def telegram_api(standin_host: StandinHost) -> Iterator[tuple[TelegramApiStandin, str]]:
    """Yield a Bot API stand-in served on loopback, with its base URL."""
    standin = TelegramApiStandin(BOT_TOKEN)
    with standin_host.mount(standin.app) as url:
        yield standin, url


@pytest.fixture
def front_settings(tmp_path: Path, telegram_api: tuple[TelegramApiStandin, str]) -> FrontSettings:
    """Return front settings with both channels enabled and a limit of five messages a minute."""
    return FrontSettings(
        home=tmp_path,
        public_url=PUBLIC_URL,
        twilio_auth_token=TWILIO_TOKEN,
        telegram_token=BOT_TOKEN,
        telegram_secret=TELEGRAM_SECRET,
        telegram_api_url=telegram_api[1],
        messages_per_minute=5,
    )


@pytest.fixture
def dialogue() -> EchoDialogue:
    """Return a fresh echo dialogue."""
    return EchoDialogue()


@pytest.fixture
def webhook_app(
    front_settings: FrontSettings,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    dialogue: EchoDialogue,
) -> Starlette:
    """Return the webhook app over the test database, the fixed clock and the echo dialogue."""
    return create_app(front_settings, session_factory, clock, dialogue, clinic=CLINIC)


@pytest.fixture
async def client(webhook_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Yield an HTTP client that calls the app in process, as Twilio and Telegram would."""
    transport = httpx.ASGITransport(app=webhook_app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        yield http
    channel = webhook_app.state.telegram_channel
    if channel is not None:
        await channel.shutdown()
