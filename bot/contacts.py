"""Finding or creating the contact row behind an inbound message, by keyed pseudonym, for every channel."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto import (
    FrontKeyring,
    Identifier,
    candidate_pseudonyms,
    normalise,
    seal_contact,
)
from sealbook.errors import SealbookError
from storage.models.contacts import Contact

logger = logging.getLogger(__name__)

# Two writers racing on one new identifier resolve after one retry; more
# attempts only guard against a row deleted between the conflict and the lookup.
_MAX_ATTEMPTS: Final = 3


class ContactNotFound(SealbookError):
    """A contact row id that does not exist."""


class ContactConflict(SealbookError):
    """The contact row could be neither found nor created after several attempts."""


@dataclass(frozen=True)
class ContactRef:
    """The contact row behind a message: its id, channel and opt-out state, never its pseudonym."""

    contact_id: int
    channel: str
    opted_out: bool
    created: bool


def resolve_contact(
    session: Session,
    front_keyring: FrontKeyring,
    channel: str,
    raw_identifier: str | int,
    *,
    default_region: str,
    now: datetime,
) -> ContactRef:
    """Return the contact row for an identifier as typed or received, creating it on first contact.

    The identifier is normalised first (InvalidIdentifier, a ValueError,
    reaches the caller with a message fit for the patient). The row is
    looked up under every pseudonym key the front holds, active key first.
    A row found under an older key is moved to the active key in this
    transaction. A new row is inserted and then sealed, bound to its own id,
    in this transaction too. When two first messages from one identifier
    race, the unique pseudonym decides: the loser's insert is rolled back to
    a savepoint and the lookup runs again.
    """
    identifier = normalise(channel, raw_identifier, default_region)
    return resolve_identifier(session, front_keyring, identifier, now=now)


def resolve_identifier(
    session: Session, front_keyring: FrontKeyring, identifier: Identifier, *, now: datetime
) -> ContactRef:
    """Return the contact row for an already normalised identifier; see `resolve_contact`."""
    candidates = candidate_pseudonyms(front_keyring, identifier)
    active = candidates[0]

    for attempt in range(1, _MAX_ATTEMPTS + 1):
        found = _find(session, [candidate.tag for candidate in candidates])
        if found is not None:
            if found.pseudonym_key_id != active.key_id:
                old_key_id = found.pseudonym_key_id
                found.pseudonym = active.tag
                found.pseudonym_key_id = active.key_id
                session.flush()
                logger.info(
                    "moved contact %s from pseudonym key %s to %s", found.id, old_key_id, active.key_id
                )
            return _ref(found, created=False)

        try:
            with session.begin_nested():
                contact = Contact(
                    channel=identifier.channel,
                    pseudonym=active.tag,
                    pseudonym_key_id=active.key_id,
                    created_at=now,
                )
                session.add(contact)
                session.flush()
                seal_key = front_keyring.active_seal_key
                contact.sealed_contact = seal_contact(seal_key, identifier, contact.id)
                contact.seal_key_id = seal_key.key_id
                session.flush()
        except IntegrityError:
            logger.info(
                "a concurrent first message created the %s contact first; looking it up again (attempt %s)",
                identifier.channel,
                attempt,
            )
            continue
        logger.info("created %s contact %s", identifier.channel, contact.id)
        return _ref(contact, created=True)

    raise ContactConflict(
        f"could not find or create the {identifier.channel} contact after {_MAX_ATTEMPTS} attempts; "
        "the message can be retried"
    )


def attach_email_contact(
    session: Session,
    front_keyring: FrontKeyring,
    contact_id: int,
    raw_email: str,
    *,
    now: datetime,
) -> ContactRef:
    """Resolve an e-mail address as its own contact row and link it to `contact_id` as its e-mail contact.

    The address is pseudonymised and sealed like any contact, so one address
    given by two patients (a parent booking for two children, say) is one
    e-mail row linked from both. Raises InvalidIdentifier for a bad address
    and ContactNotFound for an unknown `contact_id`.
    """
    owner = session.get(Contact, contact_id)
    if owner is None:
        raise ContactNotFound(f"contact {contact_id} not found; it may have been removed")
    email = resolve_contact(session, front_keyring, "email", raw_email, default_region="AU", now=now)
    if owner.id == email.contact_id:
        raise ValueError(f"contact {owner.id} is itself this e-mail contact and cannot link to itself")
    owner.email_contact_id = email.contact_id
    session.flush()
    logger.info("linked contact %s to e-mail contact %s", owner.id, email.contact_id)
    return email


def _find(session: Session, tags: list[bytes]) -> Contact | None:
    rows = session.scalars(select(Contact).where(Contact.pseudonym.in_(tags))).all()
    by_tag = {row.pseudonym: row for row in rows}
    for tag in tags:
        if tag in by_tag:
            return by_tag[tag]
    return None


def _ref(contact: Contact, *, created: bool) -> ContactRef:
    return ContactRef(
        contact_id=contact.id,
        channel=contact.channel,
        opted_out=contact.opted_out_at is not None,
        created=created,
    )
