"""Fixed keys and keyrings shared by the crypto tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crypto.keys import CustodianKeyring, PseudonymKey, SealPrivateKey
from crypto.suites import SealSuite, generate_private_bytes

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MOBILE_E164 = "+61412345678"

# Spellings of one Australian mobile that must all give one pseudonym.
SPELLINGS = [
    "0412 345 678",
    "0412345678",
    "0412-345-678",
    "(04) 1234 5678",
    "+61 412 345 678",
    "+61412345678",
    "0061 412 345 678",
    "+61 (0) 412 345 678",
    "0011 61 412 345 678",
    "  0412.345.678  ",
]


def make_custodian(suite: SealSuite = SealSuite.X25519) -> CustodianKeyring:
    """Return a custodian keyring with fixed pseudonym key p1 and a fresh seal key s1 of `suite`."""
    return CustodianKeyring(
        (PseudonymKey("p1", bytes(range(32)), T0),),
        "p1",
        (SealPrivateKey("s1", suite, generate_private_bytes(suite), T0),),
        "s1",
    )


def add_keys(custodian: CustodianKeyring, suite: SealSuite = SealSuite.X25519) -> CustodianKeyring:
    """Return the keyring with p2 and s2 added and made active, as after both rotations."""
    later = T0 + timedelta(days=30)
    return CustodianKeyring(
        (*custodian.pseudonym_keys, PseudonymKey("p2", bytes(range(32, 64)), later)),
        "p2",
        (
            *custodian.seal_keys,
            SealPrivateKey("s2", suite, generate_private_bytes(suite), later),
        ),
        "s2",
    )
