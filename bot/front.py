"""The front's composition root: database, clock, clinic details, dialogue handler and extra routes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

from bot.dispatch import ClinicInfo
from bot.handler import MessageHandler
from sealbook.clock import Clock
from sealbook.errors import ConfigError
from sealbook.settings import FrontSettings, read_settings_file
from storage import db

logger = logging.getLogger(__name__)


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
    """Connect to a migrated database and build the dialogue handler; raise ConfigError if either fails."""
    engine = db.make_engine(settings.effective_database_url)
    try:
        current, head = db.current_revision(engine), db.head_revision()
        if current != head:
            raise ConfigError(
                f"the database is at {current or 'no revision'}, not {head}; run: sealbook db upgrade"
            )
        session_factory = db.make_session_factory(engine)
        handler = build_handler(settings, session_factory)
    except BaseException:
        engine.dispose()
        raise
    return Front(
        engine=engine,
        session_factory=session_factory,
        clock=clock,
        handler=handler,
        clinic=clinic_info(settings),
    )


def build_handler(settings: FrontSettings, session_factory: sessionmaker[Session]) -> MessageHandler:
    """Return the real dialogue handler: contact resolution and the flows engine."""
    # TODO: wire bot.contacts.resolve_contact and flows.handle_inbound once both are on main.
    raise ConfigError("this build has no dialogue engine yet; the webhook server cannot start")


def clinic_info(settings: FrontSettings) -> ClinicInfo:
    """Read the clinic's name and phone number from the [clinic] section of the settings file."""
    clinic = read_settings_file(settings.home).get("clinic", {})
    name = clinic.get("name") if isinstance(clinic, dict) else None
    phone = clinic.get("phone") if isinstance(clinic, dict) else None
    return ClinicInfo(
        name=name if isinstance(name, str) and name.strip() else "the clinic",
        phone=phone if isinstance(phone, str) and phone.strip() else "the clinic's usual number",
    )
