"""Fixtures for dialogue tests: the demo clinic, a contact row and a chat driver."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

import pytest
from sqlalchemy.orm import Session, sessionmaker

from booking.clinic import Clinic
from booking.clinic_file import DEMO_CLINIC, load_clinic_file
from booking.store import import_clinic, load_clinic
from flows.replies import Channel, ChoiceEvent, InboundEvent, Reply, TextEvent
from flows.runner import ContactActions, handle_inbound
from storage.models.contacts import Contact

# Wednesday 16 June 2027, 10:00 in Sydney (AEST).
NOW = dt.datetime(2027, 6, 16, 0, 0, tzinfo=dt.UTC)


def make_contact(session_factory: sessionmaker[Session], now: dt.datetime = NOW) -> int:
    """Insert a contact row with a random pseudonym and return its id."""
    with session_factory() as session, session.begin():
        contact = Contact(channel="sms", pseudonym=os.urandom(32), pseudonym_key_id="test", created_at=now)
        session.add(contact)
        session.flush()
        return contact.id


@pytest.fixture
def demo_clinic() -> Clinic:
    """Return the demo clinic as parsed on Wednesday 16 June 2027, without a database."""
    return load_clinic_file(DEMO_CLINIC, now=NOW)


@pytest.fixture
def stored_clinic(session_factory: sessionmaker[Session]) -> Clinic:
    """Import the demo clinic into the test database and return it as loaded back."""
    with session_factory() as session, session.begin():
        import_clinic(session, load_clinic_file(DEMO_CLINIC, now=NOW), NOW)
    with session_factory() as session:
        return load_clinic(session)


@dataclass
class Chat:
    """Drives `handle_inbound` as one patient and keeps the last replies."""

    session_factory: sessionmaker[Session]
    clinic: Clinic
    contact_id: int
    channel: Channel = "sms"
    now: dt.datetime = NOW
    contact_actions: ContactActions | None = None
    replies: list[Reply] = field(default_factory=list)

    def event(self, event: InboundEvent) -> list[Reply]:
        """Send one event and return the replies."""
        self.replies = handle_inbound(
            self.session_factory,
            self.clinic,
            contact_id=self.contact_id,
            channel=self.channel,
            event=event,
            now=self.now,
            contact_actions=self.contact_actions,
        )
        return self.replies

    def send(self, text: str) -> list[Reply]:
        """Send free text."""
        return self.event(TextEvent(text))

    def tap(self, label_start: str) -> list[Reply]:
        """Tap the first offered choice of the last reply whose label starts with `label_start`."""
        for reply in reversed(self.replies):
            for choice in reply.choices:
                if choice.label.startswith(label_start):
                    return self.event(ChoiceEvent(choice.id))
        raise AssertionError(f"no choice starting {label_start!r} in {self.texts()}")

    def texts(self) -> list[str]:
        """Return the texts of the last replies."""
        return [reply.text for reply in self.replies]

    def last(self) -> Reply:
        """Return the last reply."""
        return self.replies[-1]


@pytest.fixture
def chat(session_factory: sessionmaker[Session], stored_clinic: Clinic) -> Chat:
    """Return a chat driver for a new contact on the demo clinic, over SMS."""
    return Chat(session_factory, stored_clinic, make_contact(session_factory))
