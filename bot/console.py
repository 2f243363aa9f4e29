"""The console channel: a patient's conversation in a terminal, or scripted on standard input.

The phone number is normalised and pseudonymised exactly as for SMS, through
the contact layer, so the console patient is the same contact as the one
texting from that number. The number itself is used for this lookup only
and never written anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from bot.contacts import attach_email_contact, resolve_contact
from bot.front import CurrentClinic
from crypto import FrontKeyring, InvalidIdentifier, KeyringError, load_front_keyring
from flows.render import render_plain
from flows.replies import Channel, TextEvent
from flows.runner import handle_inbound
from flows.when import warm_up
from sealbook.clock import Clock, clock_from_env
from sealbook.errors import ConfigError, SealbookError
from sealbook.settings import FrontSettings
from storage import db
from storage.db import session_scope
from storage.outbox import record_chat_reply_delivered

QUIT_WORDS = frozenset({"quit", "exit", "bye"})
CONSOLE_CHANNEL: Channel = "console"

DEMO_SCRIPT = (
    "hi",
    "Standard consultation with the first available doctor tomorrow morning",
    "1",
    "Y",
)
"""Messages the demo patient sends before standard input takes over: a whole booking."""


class InvalidPhone(SealbookError):
    """The phone number given to the console channel is not a valid mobile number."""


class ConsoleContactActions:
    """Attaches e-mail addresses through the contact layer with the front's keyring."""

    def __init__(self, keyring: FrontKeyring) -> None:
        self._keyring = keyring

    def attach_email(self, session: Session, contact_id: int, address: str, now: datetime) -> bool:
        """Pseudonymise and seal the address as an e-mail contact of `contact_id`; False if invalid."""
        try:
            attach_email_contact(session, self._keyring, contact_id, address, now=now)
        except InvalidIdentifier:
            return False
        return True


def run_console_chat(
    settings: FrontSettings,
    phone: str,
    lines: TextIO,
    output: TextIO,
    *,
    script: Sequence[str] = (),
    clock: Clock | None = None,
) -> None:
    """Chat as the patient with this phone number: `script` lines first, then each line read.

    Stops at the end of input or a quit word. Raises `InvalidPhone` for a
    number that is not a valid mobile, `ClinicNotLoaded` when no clinic is
    stored (`sealbook init --demo-clinic` stores the demo one), and
    `ConfigError` for a missing or unreadable keyring.
    """
    clock = clock or clock_from_env()
    try:
        keyring = load_front_keyring(settings.keys_dir)
    except KeyringError as exc:
        raise ConfigError(f"cannot load the front keyring: {exc}; run `sealbook init` first") from None
    engine = db.make_engine(settings.effective_database_url)
    try:
        session_factory = db.make_session_factory(engine)
        # Loaded again whenever staff change the set-up, so a chat that stays
        # open offers no time on a day closed since it started.
        clinic = CurrentClinic(session_factory)
        contact_id = _resolve(session_factory, keyring, settings, phone, clock.now())
        warm_up()
        _converse(session_factory, clinic, contact_id, keyring, script, lines, output, clock)
    finally:
        engine.dispose()


def _resolve(
    session_factory: sessionmaker[Session],
    keyring: FrontKeyring,
    settings: FrontSettings,
    phone: str,
    now: datetime,
) -> int:
    try:
        with session_factory() as session, session.begin():
            return resolve_contact(
                session, keyring, "sms", phone, default_region=settings.default_region, now=now
            ).contact_id
    except InvalidIdentifier as exc:
        raise InvalidPhone(f"--phone is not a valid mobile number: {exc}") from None


def _converse(
    session_factory: sessionmaker[Session],
    clinic: CurrentClinic,
    contact_id: int,
    keyring: FrontKeyring,
    script: Sequence[str],
    lines: TextIO,
    output: TextIO,
    clock: Clock,
) -> None:
    interactive = lines.isatty()
    actions = ConsoleContactActions(keyring)
    pending = list(script)
    while True:
        if pending:
            text = pending.pop(0)
            output.write(f"you> {text}\n")
        else:
            if interactive:
                output.write("you> ")
                output.flush()
            line = lines.readline()
            if not line:
                break
            text = line.strip()
            if not interactive:
                output.write(f"you> {text}\n")
        if text.lower() in QUIT_WORDS:
            _say(output, "Goodbye.")
            break
        if not text:
            continue
        turn_at = clock.now()
        replies = handle_inbound(
            session_factory,
            clinic.get(),
            contact_id=contact_id,
            channel=CONSOLE_CHANNEL,
            event=TextEvent(text),
            now=turn_at,
            contact_actions=actions,
        )
        for reply in replies:
            _say(output, render_plain(reply))
        # The replies are printed, so the relay need not confirm this turn's change again.
        with session_scope(session_factory) as session:
            record_chat_reply_delivered(
                session, contact_id=contact_id, turn_at=turn_at, delivered_at=clock.now()
            )


def _say(output: TextIO, text: str) -> None:
    output.write("bot> " + text.replace("\n", "\n     ") + "\n")
    output.flush()
