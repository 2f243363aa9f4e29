"""The SMS webhook: Twilio signatures, TwiML replies, once-only handling, opt-out words, limits and whole sessions."""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from admin_cli.app import app as admin_app
from admin_cli.runner import run_admin
from booking.clinic_file import DEMO_CLINIC, load_clinic_file
from booking.status import BookingStatus
from booking.store import import_clinic
from bot.app import create_app
from bot.dispatch import PAUSE_TEXT
from bot.front import Front, build_front
from bot.handler import TextEvent
from bot.once import message_digest
from sealbook.clock import FixedClock
from sealbook.gsm7 import measure_sms
from sealbook.settings import FrontSettings
from storage import db
from storage.models.bookings import BookingRow
from storage.models.contacts import Contact
from storage.models.inbound import InboundMessage
from tests.bot.conftest import (
    PUBLIC_URL,
    SMS_URL,
    TWILIO_TOKEN,
    EchoDialogue,
    count_rows,
    post_sms,
    sign,
    sms_params,
)
from tests.sms_words import RESERVED_SMS_WORDS, opening_word, questioned_verbs

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def _sid(number: int) -> str:
    return f"SM{number:032x}"


async def test_signed_sms_gets_twiml_reply(client: httpx.AsyncClient, dialogue: EchoDialogue) -> None:
    """A correctly signed SMS runs the dialogue and gets its reply as a TwiML message."""
    response = await post_sms(client, sms_params("book tuesday"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "<Message>echo: book tuesday</Message>" in response.text
    assert [event for _, _, event in dialogue.turns] == [TextEvent("book tuesday")]


async def test_choices_rendered_as_numbered_lines(client: httpx.AsyncClient) -> None:
    """Offered choices reach an SMS as numbered lines the patient can answer with a number."""
    response = await post_sms(client, sms_params("choices"))

    assert "Pick a time\n1) Tue 9:00am\n2) Wed 10:30am" in response.text


def _tampered_body(params: dict[str, str]) -> tuple[dict[str, str], str]:
    signature = sign(params)
    return {**params, "Body": params["Body"] + "!"}, signature


def _tampered_from(params: dict[str, str]) -> tuple[dict[str, str], str]:
    signature = sign(params)
    return {**params, "From": "+61491570007"}, signature


def _signed_over_http(params: dict[str, str]) -> tuple[dict[str, str], str]:
    return params, sign(params, url=SMS_URL.replace("https://", "http://"))


def _signed_for_other_url(params: dict[str, str]) -> tuple[dict[str, str], str]:
    return params, sign(params, url="https://other.example.org/sms")


def _signed_with_other_token(params: dict[str, str]) -> tuple[dict[str, str], str]:
    return params, sign(params, token="another-account-token")


@pytest.mark.parametrize(
    "forge",
    [_tampered_body, _tampered_from, _signed_over_http, _signed_for_other_url, _signed_with_other_token],
)
async def test_forged_sms_refused(
    client: httpx.AsyncClient,
    dialogue: EchoDialogue,
    session_factory: sessionmaker[Session],
    forge: object,
) -> None:
    """A signature that does not match the configured URL, body and token gets 403 and touches nothing."""
    params, signature = forge(sms_params("hello"))  # type: ignore[operator]

    response = await post_sms(client, params, signature=signature)

    assert response.status_code == 403
    assert dialogue.turns == []
    assert count_rows(session_factory, InboundMessage) == 0
    assert count_rows(session_factory, Contact) == 0


async def test_missing_signature_refused(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    """An SMS webhook without X-Twilio-Signature gets 403."""
    response = await client.post(
        "/sms",
        content=urlencode(sms_params("hello")),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 403
    assert count_rows(session_factory, InboundMessage) == 0


async def test_host_header_does_not_change_signed_url(client: httpx.AsyncClient) -> None:
    """Signing over the request's own Host fails; only the configured public URL counts."""
    params = sms_params("hello")
    signature = sign(params, url="https://internal-proxy:8080/sms")

    response = await client.post(
        "/sms",
        content=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            "Host": "internal-proxy:8080",
        },
    )

    assert response.status_code == 403


async def test_oversized_body_refused_by_length(client: httpx.AsyncClient) -> None:
    """A body declared longer than 64 KiB gets 413 before it is read."""
    params = sms_params("x" * 70_000)

    response = await post_sms(client, params)

    assert response.status_code == 413


async def test_oversized_chunked_body_refused(client: httpx.AsyncClient) -> None:
    """A chunked body with no Content-Length is counted as it arrives and refused past 64 KiB."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"Body=" + b"x" * 8192

    response = await client.post(
        "/sms",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )

    assert response.status_code == 413


async def test_redelivered_sms_acknowledged_once(client: httpx.AsyncClient, dialogue: EchoDialogue) -> None:
    """The same MessageSid delivered twice runs the dialogue once; the second delivery gets no reply."""
    params = sms_params("hello", sid=_sid(7))

    first = await post_sms(client, params)
    second = await post_sms(client, params)

    assert "echo: hello" in first.text
    assert second.status_code == 200
    assert second.text == EMPTY_TWIML
    assert len(dialogue.turns) == 1


async def test_concurrent_redeliveries_acted_on_once(
    client: httpx.AsyncClient, dialogue: EchoDialogue
) -> None:
    """Six simultaneous deliveries of one MessageSid give exactly one reply."""
    params = sms_params("hello", sid=_sid(8))

    responses = await asyncio.gather(*(post_sms(client, params) for _ in range(6)))

    assert [response.status_code for response in responses] == [200] * 6
    assert sum("echo: hello" in response.text for response in responses) == 1
    assert len(dialogue.turns) == 1


async def test_inbound_record_holds_no_sid_or_number(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    """The once-only record keeps the digest of the MessageSid and the time, nothing readable."""
    await post_sms(client, sms_params("hello", sid=_sid(9)))

    with session_factory() as session:
        row = session.scalars(select(InboundMessage)).one()
    assert row.channel == "sms"
    assert row.message_digest == message_digest(_sid(9))
    assert _sid(9).encode() not in row.message_digest


@pytest.mark.parametrize(
    "word",
    ["STOP", "stop", " Stop. ", "StopAll", "unsubscribe", "CANCEL", "end!", "QUIT", "revoke", "OptOut"],
)
async def test_opt_out_word_recorded(
    client: httpx.AsyncClient,
    dialogue: EchoDialogue,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    word: str,
) -> None:
    """A whole-message opt-out word sets opted_out_at, starts no dialogue and sends nothing."""
    response = await post_sms(client, sms_params(word))

    assert response.text == EMPTY_TWIML
    assert dialogue.turns == []
    with session_factory() as session:
        assert session.scalars(select(Contact.opted_out_at)).one() == clock.now()


async def test_opt_out_word_inside_sentence_is_text(
    client: httpx.AsyncClient, dialogue: EchoDialogue
) -> None:
    """ "please cancel my booking" is ordinary text for the dialogue, not an opt-out."""
    response = await post_sms(client, sms_params("please cancel my booking"))

    assert "echo: please cancel my booking" in response.text
    assert len(dialogue.turns) == 1


async def test_opted_out_contact_silent_until_start(
    client: httpx.AsyncClient, dialogue: EchoDialogue, session_factory: sessionmaker[Session]
) -> None:
    """After STOP, texts get no reply and no dialogue; START opts back in and text flows again."""
    await post_sms(client, sms_params("STOP", sid=_sid(1)))
    ignored = await post_sms(client, sms_params("book tuesday", sid=_sid(2)))
    restarted = await post_sms(client, sms_params("START", sid=_sid(3)))
    answered = await post_sms(client, sms_params("book tuesday", sid=_sid(4)))

    assert ignored.text == EMPTY_TWIML
    assert restarted.text == EMPTY_TWIML
    assert "echo: book tuesday" in answered.text
    assert [event for _, _, event in dialogue.turns] == [TextEvent("book tuesday")]
    with session_factory() as session:
        assert session.scalars(select(Contact.opted_out_at)).one() is None


@pytest.mark.parametrize("word", ["UNSTOP", "yes"])
async def test_other_opt_in_words(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session], word: str
) -> None:
    """UNSTOP and YES also clear a recorded opt-out."""
    await post_sms(client, sms_params("STOP", sid=_sid(1)))
    await post_sms(client, sms_params(word, sid=_sid(2)))

    with session_factory() as session:
        assert session.scalars(select(Contact.opted_out_at)).one() is None


async def test_yes_without_opt_out_reaches_dialogue(
    client: httpx.AsyncClient, dialogue: EchoDialogue
) -> None:
    """A YES from a contact who never opted out is an answer for the dialogue (a read-back, say)."""
    response = await post_sms(client, sms_params("YES"))

    assert "echo: YES" in response.text


async def test_opt_out_type_takes_precedence(
    client: httpx.AsyncClient, dialogue: EchoDialogue, session_factory: sessionmaker[Session]
) -> None:
    """OptOutType=STOP opts out whatever the body says (a custom keyword of Advanced Opt-Out)."""
    response = await post_sms(client, sms_params("ARRET", OptOutType="STOP"))

    assert response.text == EMPTY_TWIML
    assert dialogue.turns == []
    with session_factory() as session:
        assert session.scalars(select(Contact.opted_out_at)).one() is not None


async def test_help_names_clinic_phone_and_commands(
    client: httpx.AsyncClient, dialogue: EchoDialogue
) -> None:
    """HELP gets the clinic's name, its phone number and the words a patient can text, in two segments."""
    response = await post_sms(client, sms_params("help"))

    assert "Harbour Street Medical" in response.text
    assert "02 9999 0000" in response.text
    assert "BOOK" in response.text
    assert "STOP" in response.text
    assert dialogue.turns == []
    message = response.text.split("<Message>")[1].split("</Message>")[0]
    assert measure_sms(message).segments <= 2


async def test_rate_limit_pauses_once_then_silent(
    client: httpx.AsyncClient, dialogue: EchoDialogue, clock: FixedClock
) -> None:
    """Past five messages a minute the bot says once that it pauses, then nothing until the window ends."""
    texts = []
    for number in range(8):
        response = await post_sms(client, sms_params(f"message {number}", sid=_sid(100 + number)))
        texts.append(response.text)
    clock.advance(timedelta(seconds=61))
    after = await post_sms(client, sms_params("again", sid=_sid(200)))

    assert all("echo: message" in text for text in texts[:5])
    assert PAUSE_TEXT in texts[5]
    assert texts[6:] == [EMPTY_TWIML, EMPTY_TWIML]
    assert len(dialogue.turns) == 6
    assert "echo: again" in after.text


async def test_dialogue_failure_gets_apology(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing dialogue turn gets an apology, never a 500, and logged as one line without a traceback."""
    caplog.set_level(logging.INFO)
    response = await post_sms(client, sms_params("boom"))

    failures = [record for record in caplog.records if "dialogue failed" in record.getMessage()]
    assert response.status_code == 200
    assert "something went wrong" in response.text
    assert len(failures) == 1
    assert "(RuntimeError)" in failures[0].getMessage()
    assert failures[0].exc_info is None
    assert "dialogue failure for the test" not in caplog.text


@pytest.mark.parametrize("missing", ["MessageSid", "From"])
async def test_signed_sms_missing_field_answered_empty(
    client: httpx.AsyncClient, dialogue: EchoDialogue, missing: str
) -> None:
    """A signed request without MessageSid or From gets an empty TwiML response."""
    params = sms_params("hello")
    del params[missing]

    response = await post_sms(client, params)

    assert response.status_code == 200
    assert response.text == EMPTY_TWIML
    assert dialogue.turns == []


async def test_unusable_sender_answered_empty(client: httpx.AsyncClient, dialogue: EchoDialogue) -> None:
    """An alphanumeric sender that contact resolution rejects gets an empty response."""
    response = await post_sms(client, sms_params("hello", sender="CLINICSMS"))

    assert response.text == EMPTY_TWIML
    assert dialogue.turns == []


async def test_media_without_text_asks_for_text(client: httpx.AsyncClient, dialogue: EchoDialogue) -> None:
    """An MMS with a picture and no text gets a short request to send text."""
    response = await post_sms(client, sms_params("", NumMedia="1"))

    assert "Please send your request as text" in response.text
    assert dialogue.turns == []


_FIELD_NAMES = st.sampled_from(["MessageSid", "From", "To", "Body", "OptOutType", "NumMedia", "X"])
_VALUES = st.text(max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(_FIELD_NAMES, _VALUES, max_size=7))
async def test_signed_arbitrary_forms_never_fail(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    """Any signed form, however odd its fields, gets a 200 TwiML answer."""
    response = await post_sms(client, params)

    assert response.status_code == 200
    assert response.text.startswith("<?xml")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300), signature=st.text(max_size=40))
async def test_unsigned_garbage_refused(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session], body: bytes, signature: str
) -> None:
    """Arbitrary bytes with an arbitrary signature get 403 and leave no trace in the database."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature.isascii() and signature.isprintable():
        headers["X-Twilio-Signature"] = signature

    response = await client.post("/sms", content=body, headers=headers)

    assert response.status_code == 403
    assert count_rows(session_factory, InboundMessage) == 0


# The whole stack behind /sms: real contacts, dialogue and booking core on the demo clinic.

_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL)
_OPTION_LINE = re.compile(r"^([0-9]+|[A-Z])\) (.+)$")
_REFERENCE = re.compile(r"Your reference is ([A-Z0-9]{4}-[A-Z0-9]{4})")


@pytest.fixture
def sms_settings(home: Path, db_url: str) -> FrontSettings:
    """Return front settings with SMS only, on the test's database."""
    return FrontSettings(
        home=home,
        database_url=db_url,
        public_url=PUBLIC_URL,
        twilio_auth_token=TWILIO_TOKEN,
        messages_per_minute=30,
    )


@pytest.fixture
def sms_front(sms_settings: FrontSettings, engine: Engine, clock: FixedClock) -> Iterator[Front]:
    """Build the real front over a migrated database of each kind with the demo clinic imported."""
    with db.session_scope(db.make_session_factory(engine)) as session:
        import_clinic(session, load_clinic_file(DEMO_CLINIC, now=clock.now()), clock.now())
    built = build_front(sms_settings, clock)
    yield built
    built.close()


class SmsPatient:
    """One patient texting the real stack: each message gets a new MessageSid; replies are read from TwiML."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.sent = 0
        self.received: list[str] = []

    async def text(self, body: str) -> list[str]:
        """Send `body` and return the texts of the <Message> elements in the reply."""
        self.sent += 1
        response = await post_sms(self.client, sms_params(body, sid=_sid(5000 + self.sent)))
        assert response.status_code == 200
        messages = [html.unescape(text) for text in _MESSAGE.findall(response.text)]
        self.received.extend(messages)
        return messages

    async def book_first_slot(self) -> str:
        """Book the first time offered for tomorrow morning and return the reference."""
        await self.text("Standard consultation with the first available doctor tomorrow morning")
        await self.text("1")
        booked = await self.text("Y")
        match = _REFERENCE.search("\n".join(booked))
        assert match is not None, booked
        return match.group(1)


@pytest.fixture
async def patient(sms_settings: FrontSettings, sms_front: Front) -> AsyncIterator[SmsPatient]:
    """Yield a patient texting the webhook app built on the real front."""
    front = sms_front
    app = create_app(sms_settings, front.session_factory, front.clock, front.handler, clinic=front.clinic)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
        yield SmsPatient(client)


def _booking_status(front: Front, reference: str) -> str:
    with front.session_factory() as session:
        return session.scalars(select(BookingRow.status).where(BookingRow.reference == reference)).one()


def _opted_out(front: Front) -> bool:
    with front.session_factory() as session:
        return session.scalars(select(Contact.opted_out_at)).one() is not None


async def test_cancel_by_letter_over_sms(patient: SmsPatient, sms_front: Front) -> None:
    """Book, list, pick, C and Y cancel the booking over /sms; the patient stays opted in and gets replies."""
    reference = await patient.book_first_slot()

    await patient.text("my appointments")
    actions = await patient.text("1")
    read_back = await patient.text("C")
    done = await patient.text("Y")
    after = await patient.text("menu")

    assert actions[-1].splitlines()[-4:] == ["M) Move it", "C) Call it off", "S) Running on time?", "B) Back"]
    assert actions[-1].splitlines()[0].endswith("Reply with a letter.")
    assert read_back[-1].splitlines()[1:] == ["Y) Call it off", "N) No, keep it"]
    assert "Reply Y or N." in read_back[-1]
    assert done == [f"{reference} is cancelled."]
    assert after != []
    assert _booking_status(sms_front, reference) == BookingStatus.CANCELLED.value
    assert not _opted_out(sms_front)


async def test_sms_options_avoid_reserved_words(patient: SmsPatient) -> None:
    """No option line of a whole SMS session opens with a word that carriers or Twilio act on.

    No yes/no question in it has such a word as its verb either, since the
    patient may send that verb back alone to mean yes.
    """
    await patient.text("hi")
    await patient.book_first_slot()
    await patient.text("my appointments")
    await patient.text("1")
    await patient.text("C")
    await patient.text("N")
    await patient.text("my appointments")
    await patient.text("1")
    await patient.text("M")
    await patient.text("1")
    await patient.text("1")

    labels = [
        match.group(2)
        for message in patient.received
        for line in message.splitlines()
        if (match := _OPTION_LINE.match(line))
    ]
    assert len(labels) > 20
    assert "Book it" in labels
    assert "Move it" in labels
    assert [label for label in labels if opening_word(label) in RESERVED_SMS_WORDS] == []
    assert [text for text in patient.received if questioned_verbs(text) & RESERVED_SMS_WORDS] == []


async def test_bare_cancel_opts_out_keeps_booking(patient: SmsPatient, sms_front: Front) -> None:
    """A bare "Cancel" at the booking's options is an opt-out, as carriers treat it: no reply, booking kept."""
    reference = await patient.book_first_slot()

    await patient.text("my appointments")
    await patient.text("1")
    cancelled = await patient.text("Cancel")
    after = await patient.text("menu")

    assert cancelled == []
    assert after == []
    assert _opted_out(sms_front)
    assert _booking_status(sms_front, reference) == BookingStatus.BOOKED.value


def _staff_leave(
    monkeypatch: pytest.MonkeyPatch, settings: FrontSettings, clock: FixedClock, *args: str
) -> int:
    """Run `sealbook-admin leave ARGS --yes` on the front's home and database, as reception would."""
    with monkeypatch.context() as scoped:
        for name in list(os.environ):
            if name.startswith("SEALBOOK_"):
                scoped.delenv(name)
        scoped.setenv("SEALBOOK_HOME", str(settings.home))
        scoped.setenv("SEALBOOK_DATABASE_URL", settings.database_url)
        scoped.setenv("SEALBOOK_NOW", clock.now().isoformat())
        scoped.setenv("SEALBOOK_OPERATOR", "reception")
        return run_admin(admin_app, ["leave", *args, "--yes"])


async def test_time_lost_to_leave_keeps_doctor(
    patient: SmsPatient, sms_settings: FrontSettings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leave recorded after the read-back: the yes gets the same doctor's other times, never the rejected one."""
    await patient.text("standard with dr lee on 19/3 at 9am")
    await patient.text("1")
    assert _staff_leave(monkeypatch, sms_settings, clock, "lee", "2027-03-19") == 0

    offer = await patient.text("Y")
    lines = offer[-1].splitlines()
    times = [match.group(2) for line in lines if (match := _OPTION_LINE.match(line))][:-2]
    read_back = await patient.text("1")

    assert lines[0] == "Sorry, that time is no longer available. Nothing is free on Fri 19 Mar."
    assert lines[1] == "Free times for a Standard consultation with Dr Mei Lee:"
    assert times != []
    assert [time for time in times if time.startswith("Fri 19 Mar") or "Dr" in time] == []
    assert read_back[-1].startswith(f"Standard consultation with Dr Mei Lee, {times[0]}.")
