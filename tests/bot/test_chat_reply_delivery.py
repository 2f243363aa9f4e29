"""The booking confirmation across the front and the relay, when the chat reply is delivered and when it fails.

The real front (contacts, dialogue, booking core) serves the webhook app. The
Bot API and Twilio stand-ins run on loopback, and a live relay worker sends
through them. The relay skips a patient's confirmation only when the front
recorded that the chat reply carrying the reference was delivered.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from booking.clinic_file import DEMO_CLINIC, load_clinic_file
from booking.store import import_clinic
from bot.app import create_app
from bot.front import Front, build_front
from relay.plan import CHAT_REPLY_WAIT
from relay.settings import RelayWorkerSettings
from sealbook.clock import FixedClock
from sealbook.settings import FrontSettings
from sealbook.standins.telegram_api import TelegramApiStandin, TelegramFailure
from sealbook.standins.twilio_api import TwilioApiStandin
from storage import db
from storage.models.bookings import BookingRow
from storage.models.outbox import Notice
from tests.bot.conftest import BOT_TOKEN, PUBLIC_URL, TELEGRAM_SECRET, TWILIO_TOKEN, post_sms, sms_params
from tests.conftest import StandinHost
from tests.relay.helpers import relay_settings, run_worker

CHAT_ID = 5550101
PHONE = "+61491570110"
TWILIO_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_API_KEY = "SK" + "1" * 32
TWILIO_API_SECRET = "standin-secret"
SMS_FROM = "+61400000000"
BOOKING_TEXTS = ("Standard consultation with the first available doctor tomorrow morning", "1", "Y")


@pytest.fixture
def twilio_api(standin_host: StandinHost) -> Iterator[tuple[TwilioApiStandin, str]]:
    """Yield a Twilio Messages stand-in served on loopback, with its base URL."""
    standin = TwilioApiStandin(TWILIO_ACCOUNT_SID, {TWILIO_API_KEY: TWILIO_API_SECRET})
    with standin_host.mount(standin.app) as url:
        yield standin, url


@pytest.fixture
def front(
    home: Path,
    engine: Engine,
    db_url: str,
    clock: FixedClock,
    telegram_api: tuple[TelegramApiStandin, str],
) -> Iterator[Front]:
    """Build the real front over a migrated database with the demo clinic imported."""
    with db.session_scope(db.make_session_factory(engine)) as session:
        import_clinic(session, load_clinic_file(DEMO_CLINIC, now=clock.now()), clock.now())
    built = build_front(_front_settings(home, db_url, telegram_api[1]), clock)
    yield built
    built.close()


def _front_settings(home: Path, db_url: str, telegram_api_url: str) -> FrontSettings:
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
async def client(
    front: Front, home: Path, db_url: str, telegram_api: tuple[TelegramApiStandin, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client of the webhook app built on the real front, as Telegram and Twilio call it."""
    settings = _front_settings(home, db_url, telegram_api[1])
    app = create_app(settings, front.session_factory, front.clock, front.handler, clinic=front.clinic)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as http:
        yield http
    await app.state.telegram_channel.shutdown()


@pytest.fixture
def relay(
    home: Path,
    db_url: str,
    telegram_api: tuple[TelegramApiStandin, str],
    twilio_api: tuple[TwilioApiStandin, str],
) -> RelayWorkerSettings:
    """Return live relay settings that send through the same stand-ins."""
    return relay_settings(
        home,
        db_url,
        relay_transport="live",
        relay_retry_base_seconds="30",
        telegram_token=BOT_TOKEN,
        telegram_api_url=telegram_api[1],
        twilio_account_sid=TWILIO_ACCOUNT_SID,
        twilio_api_key=TWILIO_API_KEY,
        twilio_api_secret=TWILIO_API_SECRET,
        twilio_api_url=twilio_api[1],
        sms_from=SMS_FROM,
    )


class TelegramPatient:
    """One patient writing to the bot: each text is a new update posted to /telegram."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.update_id = 900
        self.chat = {"id": CHAT_ID, "type": "private", "first_name": "Pat"}
        self.user = {"id": CHAT_ID, "is_bot": False, "first_name": "Pat"}

    async def text(self, text: str) -> None:
        """Post a text message and check that the webhook acknowledged it with 200."""
        self.update_id += 1
        message: dict[str, Any] = {
            "message_id": self.update_id,
            "date": 1804665600,
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        response = await self.client.post(
            "/telegram",
            content=json.dumps({"update_id": self.update_id, "message": message}),
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"},
        )
        assert response.status_code == 200


def _only_reference(front: Front) -> str:
    with front.session_factory() as session:
        return session.scalars(select(BookingRow.reference)).one()


def _confirmation(front: Front) -> Notice:
    with front.session_factory() as session:
        return session.scalars(select(Notice).where(Notice.kind == "booking_confirmed")).one()


async def test_failed_reply_confirmed_by_relay(
    client: httpx.AsyncClient,
    front: Front,
    clock: FixedClock,
    telegram_api: tuple[TelegramApiStandin, str],
    relay: RelayWorkerSettings,
) -> None:
    """A booking reply that sendMessage failed to deliver is followed by the relay's confirmation.

    The relay waits for the front's record, then retries while the Bot API
    still fails, and delivers the reference once it works again.
    """
    standin = telegram_api[0]
    patient = TelegramPatient(client)
    for text in BOOKING_TEXTS[:-1]:
        await patient.text(text)
    standin.fail_chat(CHAT_ID, TelegramFailure.SERVER_ERROR)
    await patient.text(BOOKING_TEXTS[-1])
    reference = _only_reference(front)
    failed_replies = [call for call in standin.calls_of("sendMessage") if not call.succeeded]
    assert any(reference in call.params["text"] for call in failed_replies)
    assert not any(reference in text for text in standin.sent_texts(CHAT_ID))

    await run_worker(relay, front.session_factory, clock)

    waiting = _confirmation(front)
    assert waiting.status == "pending"
    assert waiting.due_at == waiting.created_at + CHAT_REPLY_WAIT

    clock.set(waiting.due_at)
    await run_worker(relay, front.session_factory, clock)

    retrying = _confirmation(front)
    assert retrying.status == "pending"
    assert retrying.attempts == 1
    assert retrying.last_error_class == "telegram.network"

    standin.clear_failures()
    clock.set(retrying.due_at)
    await run_worker(relay, front.session_factory, clock)

    assert _confirmation(front).status == "sent"
    confirmations = [text for text in standin.sent_texts(CHAT_ID) if reference in text]
    assert len(confirmations) == 1
    assert "is booked for" in confirmations[0]


async def test_delivered_reply_skips_confirmation(
    client: httpx.AsyncClient,
    front: Front,
    clock: FixedClock,
    telegram_api: tuple[TelegramApiStandin, str],
    relay: RelayWorkerSettings,
) -> None:
    """A booking reply that reached the chat is the only message with the reference; the relay skips its own."""
    standin = telegram_api[0]
    patient = TelegramPatient(client)
    for text in BOOKING_TEXTS:
        await patient.text(text)
    reference = _only_reference(front)
    sent_by_front = len(standin.calls_of("sendMessage"))
    assert [reference in text for text in standin.sent_texts(CHAT_ID)].count(True) == 1

    clock.advance(CHAT_REPLY_WAIT)
    await run_worker(relay, front.session_factory, clock)

    notice = _confirmation(front)
    assert (notice.status, notice.last_error_class) == ("skipped", "relay.replied_in_chat")
    assert len(standin.calls_of("sendMessage")) == sent_by_front


async def test_sms_reply_skips_confirmation(
    client: httpx.AsyncClient,
    front: Front,
    clock: FixedClock,
    twilio_api: tuple[TwilioApiStandin, str],
    relay: RelayWorkerSettings,
) -> None:
    """A booking whose TwiML reply carried the reference gets no SMS confirmation from the relay."""
    replies: list[str] = []
    for serial, text in enumerate(BOOKING_TEXTS):
        response = await post_sms(client, sms_params(text, sid=f"SM{serial:032x}", sender=PHONE))
        assert response.status_code == 200
        replies.append(response.text)
    reference = _only_reference(front)
    assert reference in replies[-1]

    clock.advance(CHAT_REPLY_WAIT)
    await run_worker(relay, front.session_factory, clock)

    notice = _confirmation(front)
    assert (notice.status, notice.last_error_class) == ("skipped", "relay.replied_in_chat")
    assert twilio_api[0].messages == []


async def test_blocked_bot_confirmation_fails(
    client: httpx.AsyncClient,
    front: Front,
    clock: FixedClock,
    telegram_api: tuple[TelegramApiStandin, str],
    relay: RelayWorkerSettings,
) -> None:
    """When the patient blocked the bot, the confirmation is tried by the relay and ends failed, where staff see it."""
    standin = telegram_api[0]
    patient = TelegramPatient(client)
    for text in BOOKING_TEXTS[:-1]:
        await patient.text(text)
    standin.fail_chat(CHAT_ID, TelegramFailure.BLOCKED)
    await patient.text(BOOKING_TEXTS[-1])

    clock.advance(CHAT_REPLY_WAIT)
    await run_worker(relay, front.session_factory, clock)

    notice = _confirmation(front)
    assert (notice.status, notice.last_error_class) == ("failed", "telegram.blocked")
