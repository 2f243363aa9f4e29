"""Property and race tests: any inbound sequence leaves a valid state, and concurrent messages apply once each."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from booking.clinic import Clinic
from booking.views import bookings_for_contact
from flows import engine
from flows.render import fits_channel
from flows.replies import ChoiceEvent, InboundEvent, Reply, TextEvent
from flows.state import decode_state
from storage.models.dialogue import DialogueStateRow
from tests.flows.conftest import NOW, Chat, make_contact

OPT_OUT_WORDS = {
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "revoke",
    "optout",
    "start",
    "yes",
    "unstop",
}
USEFUL_TEXTS = [
    "hi",
    "1",
    "2",
    "3",
    "7",
    "y",
    "Y",
    "yes",
    "n",
    "back",
    "help",
    "menu",
    "list",
    "book",
    "status",
    "standard consult with dr lee tomorrow arvo",
    "long one with anyone fri 2.30",
    "later",
    "another day",
    "5/6",
    "29/2",
    "at 7",
    "make it thursday",
    "c",
    "m",
    "s",
    "b",
    "email",
    "jane@example.org",
    "K7QM-4X2P",
    "",
    "   ",
    "\x00\x07\x1b[2J",
    "\U0001f600" * 20,
    "x" * 5000,
    "\u202e\u200b\u00a0",
    "DROP TABLE contacts;",
]


class ErrorCounter(logging.Handler):
    """Counts log records at ERROR or above, which the runner writes when a step crashes."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@pytest.fixture
def errors() -> Iterator[ErrorCounter]:
    """Attach an error counter to the dialogue's loggers for the test."""
    counter = ErrorCounter()
    logger = logging.getLogger("flows")
    logger.addHandler(counter)
    yield counter
    logger.removeHandler(counter)


@st.composite
def inbound_events(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    """Draw a sequence of (kind, payload index, minutes later) describing inbound events."""
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["useful", "useful", "unicode", "offered", "stale", "bogus"]))
        steps.append((kind, draw(st.integers(0, 10_000)), draw(st.sampled_from([0, 0, 1, 45, 200]))))
    return steps


def _event(kind: str, index: int, seen_ids: list[str], current_ids: list[str], text: str) -> InboundEvent:
    if kind == "useful":
        return TextEvent(USEFUL_TEXTS[index % len(USEFUL_TEXTS)])
    if kind == "unicode":
        return TextEvent(text)
    if kind == "offered" and current_ids:
        return ChoiceEvent(current_ids[index % len(current_ids)])
    if kind == "stale" and seen_ids:
        return ChoiceEvent(seen_ids[index % len(seen_ids)])
    return ChoiceEvent(f"{index:x}.{index}.{index % 7}")


def _check_replies(replies: list[Reply], chat: Chat) -> None:
    assert replies
    for reply in replies:
        assert fits_channel(reply, chat.channel)
        ids = [choice.id for choice in reply.choices]
        assert len(ids) == len(set(ids))
        assert all(choice.key.lower() not in OPT_OUT_WORDS for choice in reply.choices)


def _check_state(chat: Chat, saves: int) -> None:
    with chat.session_factory() as session:
        row = session.get_one(DialogueStateRow, chat.contact_id)
        state = decode_state(row.state)
        assert row.version == saves
        assert row.expires_at > chat.now
    assert state.step in engine.STEPS
    if state.prompt is not None:
        assert len(state.prompt.offers) == len(state.prompt.labels)
        assert state.prompt.serial <= state.serial


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=inbound_events(),
    texts=st.lists(st.text(max_size=80), min_size=6, max_size=6),
    channel=st.sampled_from(["sms", "telegram", "console"]),
)
def test_any_events_leave_valid_state(
    session_factory: sessionmaker[Session],
    stored_clinic: Clinic,
    errors: ErrorCounter,
    events: list[tuple[str, int, int]],
    texts: list[str],
    channel: str,
) -> None:
    """Arbitrary text, taps, stale and bogus choice ids never fail, and every reply fits its channel."""
    chat = Chat(session_factory, stored_clinic, make_contact(session_factory), channel=channel)  # type: ignore[arg-type]
    seen_ids: list[str] = []
    current_ids: list[str] = []
    for number, (kind, index, minutes) in enumerate(events, start=1):
        chat.now += dt.timedelta(minutes=minutes)
        replies = chat.event(_event(kind, index, seen_ids, current_ids, texts[number - 1]))
        _check_replies(replies, chat)
        _check_state(chat, number)
        current_ids = [choice.id for reply in replies for choice in reply.choices]
        seen_ids.extend(current_ids)
    assert errors.count == 0


def _race(chats: list[Chat], messages: list[str]) -> list[list[Reply]]:
    """Send one message per chat from its own thread, all released at once."""
    barrier = threading.Barrier(len(chats))
    results: list[list[Reply]] = [[] for _ in chats]

    def run(position: int) -> None:
        barrier.wait()
        results[position] = chats[position].send(messages[position])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(chats))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_yes_books_once(
    session_factory: sessionmaker[Session], stored_clinic: Clinic, errors: ErrorCounter
) -> None:
    """Two yes messages applied at once make one booking; the other reports it, over ten rounds."""
    for _ in range(10):
        contact_id = make_contact(session_factory)
        chat = Chat(session_factory, stored_clinic, contact_id)
        chat.send("standard consult with anyone friday morning")
        chat.send("1")
        twin = Chat(session_factory, stored_clinic, contact_id)

        results = _race([chat, twin], ["Y", "yes"])

        texts = sorted(replies[0].text for replies in results)
        with session_factory() as session:
            booked = bookings_for_contact(session, contact_id, NOW)
            version = session.scalar(
                select(DialogueStateRow.version).where(DialogueStateRow.contact_id == contact_id)
            )
        assert len(booked) == 1
        assert texts[0].startswith("Booked. Your reference is ")
        assert texts[1] == f"That's done already: your reference is {booked[0].reference}."
        assert version == 4
    assert errors.count == 0


def test_concurrent_messages_apply_in_turn(
    session_factory: sessionmaker[Session], stored_clinic: Clinic, errors: ErrorCounter
) -> None:
    """Two different messages at once are both applied, one after the other, to one state."""
    for _ in range(10):
        contact_id = make_contact(session_factory)
        first = Chat(session_factory, stored_clinic, contact_id)
        first.send("hi")
        second = Chat(session_factory, stored_clinic, contact_id)

        results = _race([first, second], ["book", "help"])

        with session_factory() as session:
            row = session.get_one(DialogueStateRow, contact_id)
            state = decode_state(row.state)
        assert row.version == 3
        assert all(results)
        assert state.step in {"BOOK_TYPE", "MENU"} or state.flow == "book"
    assert errors.count == 0
