"""sealbook's contact protocol: normalisation, keyed pseudonyms, HPKE-sealed contacts, keyrings and rotation.

This package imports only the standard library, `cryptography`, `idna` and
`phonenumbers`, so another booking system can adopt it; docs/PROTOCOL.md
specifies the formats.
"""

from crypto.errors import CannotOpen, CryptoError, InvalidIdentifier, KeyringError
from crypto.keyring import (
    check_retirable,
    init_keyrings,
    load_custodian_keyring,
    load_front_keyring,
    load_relay_keyring,
    retire_key,
    rotate_pseudonym_key,
    rotate_seal_key,
)
from crypto.keys import (
    CustodianKeyring,
    FrontKeyring,
    PseudonymKey,
    RelayKeyring,
    SealPrivateKey,
    SealPublicKey,
)
from crypto.normalise import (
    CHANNELS,
    Channel,
    Identifier,
    normalise,
    normalise_email,
    normalise_phone,
    normalise_telegram_chat_id,
)
from crypto.pseudonym import (
    Pseudonym,
    candidate_pseudonyms,
    pseudonymise,
    recompute_pseudonym,
)
from crypto.rotation import needs_rewrap, rewrap
from crypto.seal import open_contact, seal_contact, sealed_key_id
from crypto.suites import SealSuite

__all__ = [
    "CHANNELS",
    "CannotOpen",
    "Channel",
    "CryptoError",
    "CustodianKeyring",
    "FrontKeyring",
    "Identifier",
    "InvalidIdentifier",
    "KeyringError",
    "Pseudonym",
    "PseudonymKey",
    "RelayKeyring",
    "SealPrivateKey",
    "SealPublicKey",
    "SealSuite",
    "candidate_pseudonyms",
    "check_retirable",
    "init_keyrings",
    "load_custodian_keyring",
    "load_front_keyring",
    "load_relay_keyring",
    "needs_rewrap",
    "normalise",
    "normalise_email",
    "normalise_phone",
    "normalise_telegram_chat_id",
    "open_contact",
    "pseudonymise",
    "recompute_pseudonym",
    "retire_key",
    "rewrap",
    "rotate_pseudonym_key",
    "rotate_seal_key",
    "seal_contact",
    "sealed_key_id",
]
