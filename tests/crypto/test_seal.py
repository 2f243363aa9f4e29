"""Tests for sealing contacts with HPKE and for every way opening must fail."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hpke

from crypto import (
    CannotOpen,
    SealSuite,
    normalise,
    open_contact,
    seal_contact,
    sealed_key_id,
)
from crypto.keys import RelayKeyring
from crypto.seal import PADDED_BYTES, build_info, read_header
from crypto.suites import SPECS
from tests.crypto.helpers import add_keys, make_custodian

SUITES = [SealSuite.X25519, SealSuite.MLKEM768_X25519]


@pytest.fixture(params=SUITES, ids=[suite.value for suite in SUITES])
def suite(request: pytest.FixtureRequest) -> SealSuite:
    """Each supported suite in turn."""
    result: SealSuite = request.param
    return result


def test_seal_then_open(suite: SealSuite) -> None:
    """A sealed contact opens to the same identifier on its own row."""
    custodian = make_custodian(suite)
    identifier = normalise("sms", "0412 345 678")
    blob = seal_contact(custodian.front().active_seal_key, identifier, 42)
    assert open_contact(custodian.relay(), blob, channel="sms", contact_id=42) == identifier


def test_blob_length_hides_address_length(suite: SealSuite) -> None:
    """A chat id, a phone number and a long e-mail address seal to blobs of one length."""
    public_key = make_custodian(suite).front().active_seal_key
    identifiers = [
        normalise("telegram", 5),
        normalise("sms", "0412 345 678"),
        normalise("email", "a.very.long.name." * 3 + "x@example.org"),
    ]
    lengths = {len(seal_contact(public_key, identifier, 1)) for identifier in identifiers}
    spec = SPECS[suite]
    header_bytes = 8 + len("s1")
    assert lengths == {header_bytes + spec.enc_bytes + PADDED_BYTES + 16}


def test_sealing_twice_differs(suite: SealSuite) -> None:
    """Two seals of one address differ, so equal blobs never reveal equal contacts."""
    public_key = make_custodian(suite).front().active_seal_key
    identifier = normalise("sms", "0412 345 678")
    assert seal_contact(public_key, identifier, 1) != seal_contact(public_key, identifier, 1)


def test_copied_payload_fails_on_another_row(suite: SealSuite) -> None:
    """A payload copied onto another contact row does not open there."""
    custodian = make_custodian(suite)
    blob = seal_contact(custodian.front().active_seal_key, normalise("sms", "0412 345 678"), 42)
    with pytest.raises(CannotOpen):
        open_contact(custodian.relay(), blob, channel="sms", contact_id=43)


def test_payload_fails_under_another_channel() -> None:
    """A payload sealed for a chat id does not open as an e-mail contact of the same row."""
    custodian = make_custodian()
    blob = seal_contact(custodian.front().active_seal_key, normalise("telegram", 77), 9)
    with pytest.raises(CannotOpen):
        open_contact(custodian.relay(), blob, channel="email", contact_id=9)


def test_every_flipped_bit_fails() -> None:
    """Flipping any single bit of the blob, header included, makes it fail to open."""
    custodian = make_custodian()
    blob = seal_contact(custodian.front().active_seal_key, normalise("telegram", 77), 9)
    for position in range(len(blob) * 8):
        damaged = bytearray(blob)
        damaged[position // 8] ^= 1 << (position % 8)
        with pytest.raises(CannotOpen):
            open_contact(custodian.relay(), bytes(damaged), channel="telegram", contact_id=9)


def test_flipped_bit_fails_hybrid() -> None:
    """One flipped bit in the hybrid encapsulated key, and one in its ciphertext, fail to open."""
    custodian = make_custodian(SealSuite.MLKEM768_X25519)
    blob = seal_contact(custodian.front().active_seal_key, normalise("telegram", 77), 9)
    for index in (20, 600, len(blob) - 1):
        damaged = bytearray(blob)
        damaged[index] ^= 0x01
        with pytest.raises(CannotOpen):
            open_contact(custodian.relay(), bytes(damaged), channel="telegram", contact_id=9)


def test_truncation_fails(suite: SealSuite) -> None:
    """Every truncation of the blob, down to nothing, fails to open; so does an appended byte."""
    custodian = make_custodian(suite)
    blob = seal_contact(custodian.front().active_seal_key, normalise("sms", "0412 345 678"), 1)
    for length in [*range(40), len(blob) - 17, len(blob) - 1]:
        with pytest.raises(CannotOpen):
            open_contact(custodian.relay(), blob[:length], channel="sms", contact_id=1)
    with pytest.raises(CannotOpen):
        open_contact(custodian.relay(), blob + b"\x00", channel="sms", contact_id=1)


def test_unknown_key_id_fails() -> None:
    """A blob naming a key id the relay does not hold fails to open."""
    custodian = make_custodian()
    blob = seal_contact(custodian.front().active_seal_key, normalise("sms", "0412 345 678"), 1)
    renamed = blob.replace(b"\x02s1", b"\x02s9", 1)
    assert sealed_key_id(renamed) == "s9"
    with pytest.raises(CannotOpen):
        open_contact(custodian.relay(), renamed, channel="sms", contact_id=1)
    with pytest.raises(CannotOpen):
        open_contact(RelayKeyring(()), blob, channel="sms", contact_id=1)


def test_wrong_key_fails(suite: SealSuite) -> None:
    """A relay keyring holding another key under the same id does not open the blob."""
    sealed_with = make_custodian(suite)
    other = make_custodian(suite)
    blob = seal_contact(sealed_with.front().active_seal_key, normalise("sms", "0412 345 678"), 1)
    with pytest.raises(CannotOpen):
        open_contact(other.relay(), blob, channel="sms", contact_id=1)


def test_key_of_other_suite_fails() -> None:
    """A relay key of the other suite under the blob's key id fails cleanly, not with TypeError."""
    blob = seal_contact(make_custodian().front().active_seal_key, normalise("sms", "0412 345 678"), 1)
    hybrid_relay = make_custodian(SealSuite.MLKEM768_X25519).relay()
    with pytest.raises(CannotOpen):
        open_contact(hybrid_relay, blob, channel="sms", contact_id=1)


def test_every_failure_has_one_message() -> None:
    """Wrong row, unknown key and truncation raise CannotOpen with the same message."""
    custodian = make_custodian()
    blob = seal_contact(custodian.front().active_seal_key, normalise("sms", "0412 345 678"), 1)
    messages = set()
    for candidate, contact_id, relay in [
        (blob, 2, custodian.relay()),
        (blob, 1, RelayKeyring(())),
        (blob[:50], 1, custodian.relay()),
        (b"", 1, custodian.relay()),
    ]:
        with pytest.raises(CannotOpen) as caught:
            open_contact(relay, candidate, channel="sms", contact_id=contact_id)
        messages.add(str(caught.value))
        assert caught.value.__cause__ is None
    assert messages == {CannotOpen.MESSAGE}


def test_old_key_still_opens_after_rotation() -> None:
    """After adding s2 the relay still opens payloads sealed to s1."""
    first = make_custodian()
    blob = seal_contact(first.front().active_seal_key, normalise("sms", "0412 345 678"), 3)
    rotated = add_keys(first, SealSuite.MLKEM768_X25519)
    assert rotated.front().active_seal_key.key_id == "s2"
    assert open_contact(rotated.relay(), blob, channel="sms", contact_id=3).value == "+61412345678"


def test_blob_is_raw_hpke_with_documented_info(suite: SealSuite) -> None:
    """The bytes after the header open with the library's Suite.decrypt and the documented info."""
    custodian = make_custodian(suite)
    blob = seal_contact(custodian.front().active_seal_key, normalise("sms", "0412 345 678"), 5)
    header, header_len = read_header(blob)
    spec = SPECS[suite]
    library_suite = hpke.Suite(spec.kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
    padded = library_suite.decrypt(
        blob[header_len:],
        custodian.seal_keys[0].hpke_key,
        info=build_info(header, "sms", 5),
    )
    assert padded[:2] == b"\x00\x0c"
    assert padded[2:14] == b"+61412345678"
    assert padded[14:] == bytes(PADDED_BYTES - 14)


def test_bad_contact_id_is_value_error() -> None:
    """A negative or oversized row id is a programming error, not a failed open."""
    public_key = make_custodian().front().active_seal_key
    for contact_id in (-1, 2**64):
        with pytest.raises(ValueError, match="contact row id"):
            seal_contact(public_key, normalise("telegram", 1), contact_id)
