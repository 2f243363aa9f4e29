"""Tests for keyed pseudonyms and candidate lookup under several keys."""

from __future__ import annotations

import hashlib
import hmac

from crypto import candidate_pseudonyms, normalise, pseudonymise, recompute_pseudonym
from tests.crypto.helpers import SPELLINGS, add_keys, make_custodian


def test_pseudonym_is_hmac_of_channel_and_value() -> None:
    """The tag is the full 32-byte HMAC-SHA-256 of `channel:value` under the key."""
    key = make_custodian().pseudonym_keys[0]
    pseudonym = pseudonymise(key, normalise("sms", "0412 345 678"))
    expected = hmac.new(bytes(range(32)), b"sms:+61412345678", hashlib.sha256).digest()
    assert pseudonym.tag == expected
    assert len(pseudonym.tag) == 32
    assert pseudonym.key_id == "p1"


def test_spellings_share_one_pseudonym() -> None:
    """Every spelling of one mobile gives the same pseudonym."""
    key = make_custodian().pseudonym_keys[0]
    tags = {pseudonymise(key, normalise("sms", spelling)).tag for spelling in SPELLINGS}
    assert len(tags) == 1


def test_plain_sha256_differs_from_pseudonym() -> None:
    """No unkeyed SHA-256 of any spelling, bare or channel-prefixed, equals the pseudonym."""
    key = make_custodian().pseudonym_keys[0]
    tag = pseudonymise(key, normalise("sms", SPELLINGS[0])).tag
    spellings = [*SPELLINGS, "+61412345678", "sms:+61412345678"]
    for spelling in spellings:
        assert hashlib.sha256(spelling.encode()).digest() != tag
        assert hashlib.sha256(spelling.strip().encode()).digest() != tag


def test_channel_separates_domains() -> None:
    """The same digits as a chat id and as an e-mail local part give different pseudonyms."""
    key = make_custodian().pseudonym_keys[0]
    as_chat = pseudonymise(key, normalise("telegram", "61412345678"))
    as_sms = pseudonymise(key, normalise("sms", "+61412345678"))
    assert as_chat.tag != as_sms.tag


def test_keys_give_different_pseudonyms() -> None:
    """One identifier under two keys gives two unrelated tags."""
    keyring = add_keys(make_custodian()).front()
    identifier = normalise("sms", "0412 345 678")
    first, second = (pseudonymise(key, identifier) for key in keyring.pseudonym_keys)
    assert first.tag != second.tag


def test_candidates_active_key_first() -> None:
    """Candidate pseudonyms come under the active key first, then older keys."""
    keyring = add_keys(make_custodian()).front()
    candidates = candidate_pseudonyms(keyring, normalise("email", "jane@example.org"))
    assert [candidate.key_id for candidate in candidates] == ["p2", "p1"]


def test_recompute_uses_active_key() -> None:
    """Recomputing a pseudonym gives the active key's tag."""
    keyring = add_keys(make_custodian()).front()
    identifier = normalise("telegram", 99)
    assert recompute_pseudonym(keyring, identifier) == candidate_pseudonyms(keyring, identifier)[0]


def test_pseudonym_repr_hides_tag() -> None:
    """A Pseudonym in a log line shows its key id, not its tag."""
    pseudonym = pseudonymise(make_custodian().pseudonym_keys[0], normalise("telegram", 5))
    assert pseudonym.tag.hex() not in repr(pseudonym)
    assert "p1" in repr(pseudonym)
