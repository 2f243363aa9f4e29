"""Tests that docs/protocol_vectors.json and docs/PROTOCOL.md agree with the code."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hpke

from crypto import CannotOpen, normalise, open_contact
from crypto.keys import PseudonymKey, RelayKeyring, SealPrivateKey
from crypto.pseudonym import pseudonymise
from crypto.seal import BlobHeader, build_info, pad_address, read_header
from crypto.suites import SPECS, SealSuite

DOCS = Path(__file__).resolve().parents[2] / "docs"
VECTORS: dict[str, Any] = json.loads((DOCS / "protocol_vectors.json").read_text())
CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("vector", VECTORS["pseudonyms"], ids=lambda v: f"{v['channel']}-{v['key_id']}")
def test_pseudonym_vector(vector: dict[str, Any]) -> None:
    """A fixed key and identifier give the recorded normalised form and pseudonym."""
    identifier = normalise(vector["channel"], vector["raw"])
    key = PseudonymKey(vector["key_id"], bytes.fromhex(vector["key_hex"]), CREATED_AT)
    assert identifier.value == vector["normalised"]
    assert identifier.keyed_bytes().hex() == vector["hmac_input_hex"]
    assert pseudonymise(key, identifier).tag.hex() == vector["pseudonym_hex"]

    # A second implementation needs only HMAC-SHA-256 over the recorded input.
    direct = hmac.new(
        bytes.fromhex(vector["key_hex"]),
        bytes.fromhex(vector["hmac_input_hex"]),
        hashlib.sha256,
    )
    assert direct.hexdigest() == vector["pseudonym_hex"]


@pytest.mark.parametrize("vector", VECTORS["sealed"], ids=lambda v: f"{v['suite']}-{v['channel']}")
def test_sealed_vector(vector: dict[str, Any]) -> None:
    """A fixed relay private key opens the recorded blob, and header, info and padding match."""
    suite = SealSuite.from_name(vector["suite"])
    private_key = SealPrivateKey(
        vector["key_id"], suite, bytes.fromhex(vector["private_key_hex"]), CREATED_AT
    )
    blob = bytes.fromhex(vector["blob_hex"])
    header = BlobHeader(suite, vector["key_id"])

    assert private_key.public().public_bytes.hex() == vector["public_key_hex"]
    assert header.encode().hex() == vector["header_hex"]
    assert blob.startswith(header.encode())
    assert read_header(blob) == (header, len(header.encode()))
    assert build_info(header, vector["channel"], vector["contact_id"]).hex() == vector["info_hex"]
    assert pad_address(vector["address"]).hex() == vector["padded_plaintext_hex"]

    opened = open_contact(
        RelayKeyring((private_key,)),
        blob,
        channel=vector["channel"],
        contact_id=vector["contact_id"],
    )
    assert opened.value == vector["address"]

    library_suite = hpke.Suite(SPECS[suite].kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
    padded = library_suite.decrypt(
        blob[len(header.encode()) :],
        private_key.hpke_key,
        info=bytes.fromhex(vector["info_hex"]),
    )
    assert padded.hex() == vector["padded_plaintext_hex"]


@pytest.mark.parametrize("vector", VECTORS["sealed"][:1])
def test_sealed_vector_fails_on_other_row(vector: dict[str, Any]) -> None:
    """The recorded blob does not open for the next row id."""
    suite = SealSuite.from_name(vector["suite"])
    private_key = SealPrivateKey(
        vector["key_id"], suite, bytes.fromhex(vector["private_key_hex"]), CREATED_AT
    )
    with pytest.raises(CannotOpen):
        open_contact(
            RelayKeyring((private_key,)),
            bytes.fromhex(vector["blob_hex"]),
            channel=vector["channel"],
            contact_id=vector["contact_id"] + 1,
        )


def test_both_suites_have_vectors() -> None:
    """The vector file covers both suites."""
    assert {vector["suite"] for vector in VECTORS["sealed"]} == {suite.value for suite in SealSuite}


def test_protocol_doc_quotes_the_vectors() -> None:
    """PROTOCOL.md contains every pseudonym and every sealed blob of the vector file."""
    text = "".join((DOCS / "PROTOCOL.md").read_text().split())
    for vector in VECTORS["pseudonyms"]:
        assert vector["pseudonym_hex"] in text
    for vector in VECTORS["sealed"]:
        assert vector["blob_hex"] in text
        assert vector["private_key_hex"] in text
        assert vector["info_hex"] in text
