"""Tests for the per-row rotation steps: rewrap one payload, recompute one pseudonym."""

from __future__ import annotations

import pytest

from crypto import (
    CannotOpen,
    SealSuite,
    candidate_pseudonyms,
    needs_rewrap,
    normalise,
    open_contact,
    recompute_pseudonym,
    rewrap,
    seal_contact,
    sealed_key_id,
)
from crypto.keys import CustodianKeyring
from tests.crypto.helpers import add_keys, make_custodian


def _without_old_keys(custodian: CustodianKeyring) -> CustodianKeyring:
    return CustodianKeyring(custodian.pseudonym_keys[1:], "p2", custodian.seal_keys[1:], "s2")


@pytest.mark.parametrize("new_suite", [SealSuite.X25519, SealSuite.MLKEM768_X25519])
def test_rewrap_moves_payload_to_new_key(new_suite: SealSuite) -> None:
    """A payload rewrapped to s2 opens after s1 is gone, on the same row only."""
    old = make_custodian()
    identifier = normalise("sms", "0412 345 678")
    blob = seal_contact(old.front().active_seal_key, identifier, 8)
    rotated = add_keys(old, new_suite)
    target = rotated.front().active_seal_key
    assert needs_rewrap(blob, target)

    rewrapped = rewrap(blob, keyring=rotated.relay(), target=target, channel="sms", contact_id=8)
    assert sealed_key_id(rewrapped) == "s2"
    assert not needs_rewrap(rewrapped, target)

    retired = _without_old_keys(rotated)
    assert open_contact(retired.relay(), rewrapped, channel="sms", contact_id=8) == identifier
    with pytest.raises(CannotOpen):
        open_contact(retired.relay(), blob, channel="sms", contact_id=8)
    with pytest.raises(CannotOpen):
        open_contact(retired.relay(), rewrapped, channel="sms", contact_id=9)


def test_rewrap_of_foreign_payload_fails() -> None:
    """Rewrapping a payload that does not open on this row raises CannotOpen, writing nothing."""
    custodian = add_keys(make_custodian())
    blob = seal_contact(custodian.seal_keys[0].public(), normalise("telegram", 3), 1)
    with pytest.raises(CannotOpen):
        rewrap(
            blob,
            keyring=custodian.relay(),
            target=custodian.front().active_seal_key,
            channel="telegram",
            contact_id=2,
        )


def test_recompute_moves_pseudonym_to_active_key() -> None:
    """A pseudonym made under p1 is found among the candidates and recomputed under p2."""
    old = make_custodian()
    identifier = normalise("email", "jane@example.org")
    stored = candidate_pseudonyms(old.front(), identifier)[0]
    rotated = add_keys(old).front()

    candidates = candidate_pseudonyms(rotated, identifier)
    assert stored in candidates
    assert candidates.index(stored) == 1
    recomputed = recompute_pseudonym(rotated, identifier)
    assert recomputed.key_id == "p2"
    assert recomputed == candidates[0]

    after_retire = _without_old_keys(add_keys(old)).front()
    assert candidate_pseudonyms(after_retire, identifier) == [recomputed]
