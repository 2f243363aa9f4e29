"""The front's composition root: database, clock, clinic, keyring and the real dialogue handler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

from booking.clinic import Clinic
from booking.store import clinic_revision, load_clinic
from bot.board import board_routes
from bot.contacts import attach_email_contact, resolve_contact
from bot.dispatch import ClinicInfo
from bot.handler import Channel, ContactRef, IdentifierRejected, MessageHandler
from crypto import FrontKeyring, InvalidIdentifier, KeyringError, load_front_keyring
from flows import InboundEvent, Reply, handle_inbound, warm_up
from sealbook.clock import Clock
from sealbook.errors import ConfigError
from sealbook.settings import FrontSettings
from storage import db

logger = logging.getLogger(__name__)


class EmailContacts:
    """Attaches e-mail addresses that patients type, as sealed e-mail contacts, for the dialogue."""

    def __init__(self, keyring: FrontKeyring) -> None:
        self._keyring = keyring

    def attach_email(self, session: Session, contact_id: int, address: str, now: datetime) -> bool:
        """Pseudonymise and seal ``address`` as the e-mail contact of ``contact_id``; False if invalid."""
        try:
            attach_email_contact(session, self._keyring, contact_id, address, now=now)
        except InvalidIdentifier:
            return False
        return True


class DialogueHandler:
    """The real ``MessageHandler``: contacts through ``bot.contacts``, turns through ``flows``."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clinic: CurrentClinic,
        keyring: FrontKeyring,
        *,
        default_region: str,
    ) -> None:
        self._session_factory = session_factory
        self._clinic = clinic
        self._keyring = keyring
        self._default_region = default_region
        self._email_contacts = EmailContacts(keyring)

    def resolve_contact(
        self, session: Session, channel: Channel, raw_identifier: str, now: datetime
    ) -> ContactRef:
        """Find or create the contact by keyed pseudonym; an invalid identifier raises ``IdentifierRejected``."""
        try:
            found = resolve_contact(
                session, self._keyring, channel, raw_identifier, default_region=self._default_region, now=now
            )
        except InvalidIdentifier:
            # The library's message may quote the identifier, so it is not passed on.
            raise IdentifierRejected(f"the {channel} sender identifier is not valid") from None
        return ContactRef(id=found.contact_id, opted_out=found.opted_out)

    def handle(self, contact_id: int, channel: Channel, event: InboundEvent, now: datetime) -> list[Reply]:
        """Run one dialogue turn in its own transaction and return the replies."""
        return handle_inbound(
            self._session_factory,
            self._clinic.get(),
            contact_id=contact_id,
            channel=channel,
            event=event,
            now=now,
            contact_actions=self._email_contacts,
        )


@dataclass
class Front:
    """Everything the webhook app and the polling loop are built from, for one process."""

    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    handler: MessageHandler
    clinic: ClinicInfo
    extra_routes: Sequence[BaseRoute] = field(default=())

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def build_front(settings: FrontSettings, clock: Clock) -> Front:
    """Connect to the migrated database, load the clinic and the front keyring, and build the handler.

    Raises ``ConfigError`` with the fix when the keyring cannot be loaded or
    the database is behind the code, and ``ClinicNotLoaded`` when no clinic
    has been imported.
    """
    try:
        keyring = load_front_keyring(settings.keys_dir)
    except KeyringError as error:
        raise ConfigError(f"cannot load the front keyring: {error}; run `sealbook init` first") from None
    engine = db.make_engine(settings.effective_database_url)
    try:
        current, head = db.current_revision(engine), db.head_revision()
        if current != head:
            raise ConfigError(
                f"the database is at {current or 'no revision'}, not {head}; run: sealbook db upgrade"
            )
        session_factory = db.make_session_factory(engine)
        clinic = CurrentClinic(session_factory)
        # The waiting-room board; no route at all without SEALBOOK_BOARD_TOKEN.
        extra_routes = board_routes(settings, session_factory, clock)
    except BaseException:
        engine.dispose()
        raise

    # NOTE: the keyring is read once, so a rotated key takes effect when the
    # server restarts. The clinic is reloaded when staff change its set-up.
    handler = DialogueHandler(session_factory, clinic, keyring, default_region=settings.default_region)
    # One parse at start-up, so the first patient does not wait for dateparser to load.
    warm_up()
    logger.info("front ready for clinic %s", clinic.get().name)
    return Front(
        engine=engine,
        session_factory=session_factory,
        clock=clock,
        handler=handler,
        clinic=ClinicInfo(name=clinic.get().name, phone=clinic.get().phone),
        extra_routes=extra_routes,
    )


class CurrentClinic:
    """The stored clinic, loaded again when its revision in the database goes up.

    Importing a clinic file, recording leave or declaring a practitioner away
    raises the revision, so a running front offers no slot that staff have
    since closed.
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._lock = threading.Lock()
        with session_factory() as session:
            self._clinic = load_clinic(session)

    def get(self) -> Clinic:
        """Return the clinic, reloading it first when the stored revision is newer than this copy."""
        with self._session_factory() as session:
            revision = clinic_revision(session) or 0
            if revision <= self._clinic.revision:
                return self._clinic
            with self._lock:
                if revision > self._clinic.revision:
                    self._clinic = load_clinic(session)
                    logger.info("clinic set-up reloaded at revision %d", self._clinic.revision)
                return self._clinic
