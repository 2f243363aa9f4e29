"""Canary patients: contact rows made from known identifiers, and a search for them in any output.

NOTE: the contact rows carry placeholder pseudonyms (HMAC-SHA-256 under a
fixed test key, the construction the design names) and, as sealed payload,
the identifier itself in plain bytes. Once the crypto package is on main
they should be made with its pseudonymise and seal functions. The plain
payload makes the check stricter meanwhile: a command that read the sealed
column would print the canary as it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from storage.models.contacts import Contact

PLACEHOLDER_PSEUDONYM_KEY = b"canary-test-pseudonym-key-000000"

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
CANARY_PHONE_E164 = "+61491570157"
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


def placeholder_pseudonym(channel: str, identifier: str) -> bytes:
    """Return HMAC-SHA-256 of ``channel:identifier`` under the fixed test key."""
    message = f"{channel}:{identifier}".encode()
    return hmac.new(PLACEHOLDER_PSEUDONYM_KEY, message, hashlib.sha256).digest()


def seed_canary_contacts(session: Session, now: datetime) -> CanaryContacts:
    """Insert one SMS, one Telegram and one e-mail contact made from the canary identifiers."""
    email_address = CANARY_EMAIL.lower()
    rows = [
        Contact(
            channel="email",
            pseudonym=placeholder_pseudonym("email", email_address),
            pseudonym_key_id="test-p1",
            sealed_contact=email_address.encode(),
            seal_key_id="test-s1",
            created_at=now,
        ),
        Contact(
            channel="sms",
            pseudonym=placeholder_pseudonym("sms", CANARY_PHONE_E164),
            pseudonym_key_id="test-p1",
            sealed_contact=CANARY_PHONE_E164.encode(),
            seal_key_id="test-s1",
            created_at=now,
        ),
        Contact(
            channel="telegram",
            pseudonym=placeholder_pseudonym("telegram", CANARY_TELEGRAM_CHAT_ID),
            pseudonym_key_id="test-p1",
            sealed_contact=CANARY_TELEGRAM_CHAT_ID.encode(),
            seal_key_id="test-s1",
            created_at=now,
        ),
    ]
    session.add_all(rows)
    session.flush()
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
