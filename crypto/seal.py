"""Sealed contacts: a normalised address padded to a fixed size and HPKE-sealed to the relay's public key.

Blob layout (all integers big-endian; docs/PROTOCOL.md has the full text):

    version u8 (1) | kem_id u16 | kdf_id u16 | aead_id u16 | key_id_len u8 | key_id
    | enc (HPKE encapsulated key) | AEAD ciphertext of the 256-byte padded plaintext

The HPKE info is `INFO_LABEL`, the whole header above, the channel
(length-prefixed) and the contact row id (u64), so a blob opens only on the
row and channel it was sealed for, under the key id its header names.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag

from crypto.errors import CannotOpen
from crypto.keys import KEY_ID_PATTERN, RelayKeyring, SealPublicKey
from crypto.normalise import Identifier, check_channel
from crypto.suites import SPECS, SealSuite, suite_for_ids

BLOB_VERSION: Final = 1
INFO_LABEL: Final = b"sealbook-contact\x00"
PADDED_BYTES: Final = 256
MAX_ADDRESS_BYTES: Final = PADDED_BYTES - 2
AEAD_TAG_BYTES: Final = 16
MAX_CONTACT_ID: Final = 2**64 - 1

_FIXED_HEADER = struct.Struct(">BHHHB")


@dataclass(frozen=True)
class BlobHeader:
    """The clear-text start of a sealed blob. Unverified until the blob opens."""

    suite: SealSuite
    key_id: str

    def encode(self) -> bytes:
        """Return the header bytes exactly as they start the blob."""
        spec = SPECS[self.suite]
        key_id = self.key_id.encode("ascii")
        return _FIXED_HEADER.pack(BLOB_VERSION, spec.kem_id, spec.kdf_id, spec.aead_id, len(key_id)) + key_id


def build_info(header: BlobHeader, channel: str, contact_id: int) -> bytes:
    """Return the HPKE info: label, blob header, u8-length-prefixed channel, u64 contact row id."""
    channel_bytes = check_channel(channel).encode("ascii")
    if (
        not isinstance(contact_id, int)
        or isinstance(contact_id, bool)
        or not 0 <= contact_id <= MAX_CONTACT_ID
    ):
        raise ValueError("a contact row id is an int from 0 to 2**64 - 1")
    return (
        INFO_LABEL
        + header.encode()
        + struct.pack(">B", len(channel_bytes))
        + channel_bytes
        + struct.pack(">Q", contact_id)
    )


def pad_address(address: str) -> bytes:
    """Return the 256-byte plaintext: u16 byte length, the UTF-8 address, zero bytes."""
    encoded = address.encode()
    if len(encoded) > MAX_ADDRESS_BYTES:
        raise ValueError(f"a sealed address has at most {MAX_ADDRESS_BYTES} bytes in UTF-8")
    return struct.pack(">H", len(encoded)) + encoded + bytes(MAX_ADDRESS_BYTES - len(encoded))


def seal_contact(public_key: SealPublicKey, identifier: Identifier, contact_id: int) -> bytes:
    """Seal a normalised identifier for one contact row to a relay public key and return the blob.

    Every call draws a fresh HPKE ephemeral key, so sealing twice gives two
    different blobs that open to the same address.
    """
    header = BlobHeader(public_key.suite, public_key.key_id)
    info = build_info(header, identifier.channel, contact_id)
    suite = SPECS[public_key.suite].hpke_suite()
    sealed = suite.encrypt(pad_address(identifier.value), public_key.hpke_key, info=info)
    return header.encode() + sealed


def read_header(blob: bytes) -> tuple[BlobHeader, int]:
    """Parse an unverified header and return it with its length; raise CannotOpen if malformed."""
    if len(blob) < _FIXED_HEADER.size:
        raise CannotOpen()
    version, kem_id, kdf_id, aead_id, key_id_len = _FIXED_HEADER.unpack_from(blob)
    suite = suite_for_ids(kem_id, kdf_id, aead_id)
    end = _FIXED_HEADER.size + key_id_len
    if version != BLOB_VERSION or suite is None or len(blob) < end:
        raise CannotOpen()
    raw_key_id = bytes(blob[_FIXED_HEADER.size : end])
    if not raw_key_id.isascii() or KEY_ID_PATTERN.fullmatch(raw_key_id.decode("ascii")) is None:
        raise CannotOpen()
    return BlobHeader(suite, raw_key_id.decode("ascii")), end


def sealed_key_id(blob: bytes) -> str:
    """Return the key id a blob's header names, unverified; raise CannotOpen if the header is malformed."""
    header, _ = read_header(blob)
    return header.key_id


def open_contact(keyring: RelayKeyring, blob: bytes, *, channel: str, contact_id: int) -> Identifier:
    """Open a sealed contact for the row and channel it was sealed for and return the identifier.

    Every failure raises CannotOpen with one message: a malformed or
    truncated blob, an unknown version, suite or key id, a key of another
    suite, a blob sealed for another row or channel, and any altered byte.
    """
    checked_channel = check_channel(channel)
    header, header_len = read_header(blob)
    info = build_info(header, checked_channel, contact_id)
    private_key = keyring.find(header.key_id)
    spec = SPECS[header.suite]
    expected_len = header_len + spec.enc_bytes + PADDED_BYTES + AEAD_TAG_BYTES
    if private_key is None or private_key.suite is not header.suite or len(blob) != expected_len:
        raise CannotOpen()

    try:
        padded = spec.hpke_suite().decrypt(bytes(blob[header_len:]), private_key.hpke_key, info=info)
    except (InvalidTag, ValueError, TypeError):
        raise CannotOpen() from None
    return Identifier(checked_channel, _unpad_address(padded))


def _unpad_address(padded: bytes) -> str:
    if len(padded) != PADDED_BYTES:
        raise CannotOpen()
    (length,) = struct.unpack_from(">H", padded)
    if length > MAX_ADDRESS_BYTES or padded[2 + length :] != bytes(MAX_ADDRESS_BYTES - length):
        raise CannotOpen()
    try:
        return padded[2 : 2 + length].decode()
    except UnicodeDecodeError:
        raise CannotOpen() from None
