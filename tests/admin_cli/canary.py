"""Canary patients: contact rows made from known identifiers, and a search for them in any output.

The rows are made the way the front makes them: each identifier is
normalised, pseudonymised under a fresh test keyring and sealed to its relay
key, bound to the row's own id.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from crypto import normalise, pseudonymise, seal_contact
from crypto.keyring import new_custodian_keyring
from crypto.suites import SealSuite
from storage.models.contacts import Contact

# A mobile number from the range that the Australian regulator sets aside
# for fiction, written the ways patients and staff write it.
CANARY_PHONE_SPELLINGS = (
    "+61491570157",
    "+61 491 570 157",
    "0491 570 157",
    "0491570157",
    "0491-570-157",
    "(04) 9157 0157",
    "61491570157",
    "0061 491 570 157",
    "491570157",
)
CANARY_TELEGRAM_CHAT_ID = "5550193847"
CANARY_EMAIL = "Canary.Patient+sealbook@Example.org"

# The national significant number with any separators between its digits.
_PHONE_ANY_SPELLING = re.compile(r"4[\s().-]*" + r"[\s().-]*".join("91570157"))


@dataclass(frozen=True)
class CanaryContacts:
    """The canary contact rows: their ids and the byte strings that must never be shown."""

    sms_id: int
    telegram_id: int
    email_id: int
    secret_bytes: tuple[bytes, ...]

    @property
    def ids(self) -> tuple[int, int, int]:
        return (self.sms_id, self.telegram_id, self.email_id)


def seed_canary_contacts(session: Session, now: datetime) -> CanaryContacts:
    """Insert one e-mail, one SMS and one Telegram contact made from the canary identifiers."""
    front = new_custodian_keyring(suite=SealSuite.X25519, now=now).front()
    identifiers = [
        normalise("email", CANARY_EMAIL),
        normalise("sms", CANARY_PHONE_SPELLINGS[0]),
        normalise("telegram", CANARY_TELEGRAM_CHAT_ID),
    ]
    rows: list[Contact] = []
    for identifier in identifiers:
        pseudonym = pseudonymise(front.active_pseudonym_key, identifier)
        row = Contact(
            channel=identifier.channel,
            pseudonym=pseudonym.tag,
            pseudonym_key_id=pseudonym.key_id,
            created_at=now,
        )
        session.add(row)
        # The sealed payload is bound to the row id, so the row is flushed first.
        session.flush()
        row.sealed_contact = seal_contact(front.active_seal_key, identifier, row.id)
        row.seal_key_id = front.active_seal_key_id
        rows.append(row)
    email, sms, telegram = rows
    sms.email_contact_id = email.id
    session.flush()
    secrets = tuple(row.pseudonym for row in rows) + tuple(row.sealed_contact or b"" for row in rows)
    return CanaryContacts(sms.id, telegram.id, email.id, secrets)


def byte_spellings(value: bytes) -> list[str]:
    """Return the ways a byte string is usually printed: hex, base64, base64url, Python repr."""
    return [
        value.hex(),
        value.hex().upper(),
        base64.b64encode(value).decode().rstrip("="),
        base64.urlsafe_b64encode(value).decode().rstrip("="),
        repr(value)[2:-1][:24],
    ]


def find_canaries(output: str, secret_bytes: Iterable[bytes] = ()) -> list[str]:
    """Return a description of every canary identifier found in ``output``, in any spelling."""
    found: list[str] = []
    lowered = output.lower()
    for spelling in CANARY_PHONE_SPELLINGS:
        if spelling in output:
            found.append(f"phone number spelled {spelling!r}")
    if _PHONE_ANY_SPELLING.search(output):
        found.append("phone number digits")
    if CANARY_TELEGRAM_CHAT_ID in output:
        found.append("Telegram chat id")
    email = CANARY_EMAIL.lower()
    local_part = email.split("@", 1)[0]
    for spelling in (email, local_part, local_part.split("+", 1)[0], email.replace("@", "%40")):
        if spelling in lowered:
            found.append(f"e-mail address part {spelling!r}")
    for value in secret_bytes:
        for spelling in byte_spellings(value):
            if len(spelling) >= 8 and spelling in output:
                found.append("pseudonym or sealed payload bytes")
    return found
