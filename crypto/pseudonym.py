"""Keyed pseudonyms: HMAC-SHA-256 of `channel:identifier` under a secret pseudonym key."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Final

from crypto.keys import FrontKeyring, PseudonymKey
from crypto.normalise import Identifier

PSEUDONYM_BYTES: Final = 32


@dataclass(frozen=True)
class Pseudonym:
    """A full 32-byte HMAC-SHA-256 tag with the id of the key that made it.

    A pseudonym is personal data, so `repr` hides the tag.
    """

    key_id: str
    tag: bytes = field(repr=False)


def pseudonymise(key: PseudonymKey, identifier: Identifier) -> Pseudonym:
    """Return HMAC-SHA-256(key, "channel:value") for a normalised identifier.

    The channel prefix separates domains, so the same digits seen as an SMS
    number and as a chat id never share a pseudonym.
    """
    tag = hmac.new(key.secret, identifier.keyed_bytes(), hashlib.sha256).digest()
    return Pseudonym(key.key_id, tag)


def candidate_pseudonyms(keyring: FrontKeyring, identifier: Identifier) -> list[Pseudonym]:
    """Return the identifier's pseudonym under every key the front holds, active key first.

    During a pseudonym-key rotation a returning contact may still be stored
    under an older key: look the candidates up in this order and move a row
    found under an old key to the first candidate.
    """
    return [pseudonymise(key, identifier) for key in keyring.pseudonym_keys_active_first()]


def recompute_pseudonym(keyring: FrontKeyring, identifier: Identifier) -> Pseudonym:
    """Return the identifier's pseudonym under the active key, for moving a row off an older key."""
    return pseudonymise(keyring.active_pseudonym_key, identifier)
