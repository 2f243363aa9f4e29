"""Whole-stack sessions over SMS and Telegram, then a search for the patients' identifiers everywhere they could leak.

The real contact layer, dialogue and booking core run behind the webhook
app. Afterwards neither the database (the SQLite files, or a pg_dump of the
PostgreSQL schema) nor the log captured at DEBUG may contain the canary
phone number, Telegram chat id or e-mail address in any spelling.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from booking.clinic_file import DEMO_CLINIC, load_clinic_file
from booking.store import import_clinic
from bot.app import create_app
from bot.front import Front, build_front
from sealbook.clock import FixedClock
from sealbook.gsm7 import is_gsm7
from sealbook.logs import QUIET_LOGGERS, configure_logging
from sealbook.settings import FrontSettings
from sealbook.standins.telegram_api import TelegramApiStandin
from storage import db
from storage.models.bookings import BookingRow
from storage.models.contacts import Contact
from tests.bot.conftest import BOT_TOKEN, PUBLIC_URL, TELEGRAM_SECRET, TWILIO_TOKEN, sign, sms_params

CANARY_PHONE = "+61412873946"
CANARY_CHAT_ID = 8123456789
CANARY_EMAIL = "Canary.Patient@Example.org"


def canary_spellings() -> list[bytes]:
    """Return every spelling of the canary identifiers to search for, lower-cased."""
    national = "0412873946"
    texts = [
        CANARY_PHONE,
        CANARY_PHONE[1:],
        national,
        national[1:],
        "+61 412 873 946",
        "0412 873 946",
        "0412-873-946",
        "61-412-873-946",
        str(CANARY_CHAT_ID),
        CANARY_EMAIL,
        CANARY_EMAIL.split("@")[0],
        CANARY_EMAIL.replace("@", "%40"),
    ]
    spellings = [text.lower().encode("utf-8") for text in texts]
    spellings += [text.lower().encode("utf-16-le") for text in texts]
    # A bytea column holding a plaintext shows in a dump as hex.
    spellings += [text.lower().encode("utf-8").hex().encode("ascii") for text in texts]
    spellings += [CANARY_CHAT_ID.to_bytes(8, order) for order in ("big", "little")]
    return spellings


def leaked(haystack: bytes) -> list[bytes]:
    """Return the canary spellings found in ``haystack``, ignoring case."""
    lowered = haystack.lower()
    return [spelling for spelling in canary_spellings() if spelling in lowered or spelling in haystack]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_log() -> Iterator[_Capture]:
    """Configure logging as the services do at DEBUG and capture every record, tracebacks included."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging("DEBUG")
    capture = _Capture()
    root.addHandler(capture)
    yield capture
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for name in (*QUIET_LOGGERS, "sqlalchemy.engine", "alembic"):
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.fixture
def front(
    home: Path,
    engine: Engine,
    db_url: str,
    clock: FixedClock,
    telegram_api: tuple[TelegramApiStandin, str],
) -> Iterator[Front]:
    """Build the real front over a migrated database of each kind with the demo clinic imported."""
    with db.session_scope(db.make_session_factory(engine)) as session:
        import_clinic(session, load_clinic_file(DEMO_CLINIC, now=clock.now()), clock.now())
    settings = _settings(home, db_url, telegram_api[1])
    built = build_front(settings, clock)
    yield built
    built.close()


def _settings(home: Path, db_url: str, telegram_api_url: str) -> FrontSettings:
    return FrontSettings(
        home=home,
        database_url=db_url,
        public_url=PUBLIC_URL,
        twilio_auth_token=TWILIO_TOKEN,
        telegram_token=BOT_TOKEN,
        telegram_secret=TELEGRAM_SECRET,
        telegram_api_url=telegram_api_url,
        messages_per_minute=30,
    )


@pytest.fixture
async def stack_client(
    front: Front, home: Path, db_url: str, telegram_api: tuple[TelegramApiStandin, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client of the webhook app built on the real front."""
    settings = _settings(home, db_url, telegram_api[1])
    app = create_app(settings, front.session_factory, front.clock, front.handler, clinic=front.clinic)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
        yield client
    await app.state.telegram_channel.shutdown()


class _SmsPatient:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.serial = 0
        self.replies: list[str] = []

    async def text(self, body: str) -> str:
        self.serial += 1
        params = sms_params(body, sid=f"SM{self.serial:032x}", sender=CANARY_PHONE)
        response = await self.client.post(
            "/sms",
            content=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign(params)},
        )
        assert response.status_code == 200
        self.replies.append(response.text)
        return response.text


class _TelegramPatient:
    def __init__(self, client: httpx.AsyncClient, standin: TelegramApiStandin) -> None:
        self.client = client
        self.standin = standin
        self.update_id = 500
        self.user = {"id": CANARY_CHAT_ID, "is_bot": False, "first_name": "Canary"}
        self.chat = {"id": CANARY_CHAT_ID, "type": "private", "first_name": "Canary"}

    async def _post(self, update: dict[str, Any]) -> None:
        response = await self.client.post(
            "/telegram",
            content=json.dumps(update),
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"},
        )
        assert response.status_code == 200

    async def text(self, text: str) -> None:
        self.update_id += 1
        message = {
            "message_id": self.update_id,
            "date": 1804665600,
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        await self._post({"update_id": self.update_id, "message": message})

    async def tap_first_button(self) -> None:
        markup = self.standin.calls_of("sendMessage")[-1].params["reply_markup"]
        data = markup["inline_keyboard"][0][0]["callback_data"]
        self.update_id += 1
        message = {"message_id": 77, "date": 1804665600, "chat": self.chat, "text": "choose"}
        query = {
            "id": f"q{self.update_id}",
            "from": self.user,
            "chat_instance": "1",
            "data": data,
            "message": message,
        }
        await self._post({"update_id": self.update_id, "callback_query": query})

    def last_text(self) -> str:
        return str(self.standin.calls_of("sendMessage")[-1].params["text"])


async def _run_sessions(client: httpx.AsyncClient, standin: TelegramApiStandin) -> _SmsPatient:
    sms = _SmsPatient(client)
    await sms.text("hi")
    await sms.text("Standard consultation with the first available doctor tomorrow morning")
    await sms.text("1")
    await sms.text("Y")
    await sms.text("email")
    await sms.text(CANARY_EMAIL)
    await sms.text("help")
    await sms.text("STOP")
    await sms.text("start")

    telegram = _TelegramPatient(client, standin)
    await telegram.text("/start")
    await telegram.text("Standard consultation with the first available doctor tomorrow afternoon")
    await telegram.tap_first_button()
    await telegram.text("Y")
    await telegram.text("/mybookings")
    return sms


def _dump_database(db_url: str, tmp_path: Path) -> bytes:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        files = sorted(Path(url.database).parent.glob(Path(url.database).name + "*"))
        return b"".join(path.read_bytes() for path in files)
    options = parse_qs(urlsplit(db_url).query)["options"][0]
    schema = options.split("search_path=", 1)[1]
    result = subprocess.run(
        [
            "pg_dump",
            "-h",
            "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            "postgres",
            "-d",
            str(url.database),
            f"--schema={schema}",
            "--no-owner",
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    assert b"CREATE TABLE" in result.stdout
    assert b"COPY" in result.stdout
    return result.stdout


async def test_sessions_leave_no_identifier(
    stack_client: httpx.AsyncClient,
    telegram_api: tuple[TelegramApiStandin, str],
    front: Front,
    db_url: str,
    debug_log: _Capture,
    tmp_path: Path,
) -> None:
    """After booking by SMS and Telegram and giving an e-mail address, no identifier is in the database or the log."""
    standin = telegram_api[0]

    sms = await _run_sessions(stack_client, standin)
    with front.session_factory() as session:
        bookings = session.scalar(select(func.count()).select_from(BookingRow))
        channels = sorted(session.scalars(select(Contact.channel)).all())
    front.close()
    dumped = _dump_database(db_url, tmp_path)
    logged = "\n".join(debug_log.lines).encode("utf-8")

    assert bookings == 2
    assert channels == ["email", "sms", "telegram"]
    assert all(is_gsm7(reply) for reply in sms.replies)
    assert len(logged) > 1000
    assert leaked(dumped) == []
    assert leaked(logged) == []


def test_spellings_found_when_present() -> None:
    """The search finds each identifier in its plain, national, spaced and binary forms."""
    assert leaked(b"call 0412 873 946 today") != []
    assert leaked(b"+61412873946") != []
    assert leaked(b"mail CANARY.PATIENT@EXAMPLE.ORG") != []
    assert leaked(CANARY_CHAT_ID.to_bytes(8, "little")) != []
    assert leaked(b"nothing to see") == []


async def test_board_mounted_beside_webhooks(
    front: Front, home: Path, db_url: str, clock: FixedClock, telegram_api: tuple[TelegramApiStandin, str]
) -> None:
    """With a board token, build_front mounts the board; a wrong token gets 404 like any unknown path."""
    token = "board-token-0123456789abcdef"
    settings = dataclasses.replace(_settings(home, db_url, telegram_api[1]), board_token=token)
    with_board = build_front(settings, clock)
    app = create_app(
        settings,
        with_board.session_factory,
        clock,
        with_board.handler,
        clinic=with_board.clinic,
        extra_routes=with_board.extra_routes,
    )

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
        board = await client.get(f"/board/{token}")
        wrong = await client.get("/board/not-the-token-0123456789")
    await app.state.telegram_channel.shutdown()
    with_board.close()

    assert board.status_code == 200
    assert front.clinic.name in board.text
    assert wrong.status_code == 404
