"""Keyring files in a keys folder: loading each component's share, creating, rotating and retiring keys.

The folder contains `front.json` (pseudonym secrets, relay public keys),
`relay.json` (relay private keys) and `custodian.json` (everything). Only
the custodian file is ever edited; every custodian operation rewrites the
front and relay files from it. Times come from the caller's `now`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from crypto.errors import KeyringError
from crypto.keyfiles import (
    CUSTODIAN_FILE,
    FRONT_FILE,
    RELAY_FILE,
    custodian_lock,
    decode_custodian,
    decode_front,
    decode_key_file,
    decode_relay,
    encode_custodian,
    encode_front,
    encode_relay,
    make_keys_folder,
    write_key_file,
)
from crypto.keys import (
    PSEUDONYM_KEY_BYTES,
    CustodianKeyring,
    FrontKeyring,
    PseudonymKey,
    RelayKeyring,
    RetiredKey,
    SealPrivateKey,
)
from crypto.suites import SealSuite, generate_private_bytes

logger = logging.getLogger(__name__)

KEYRING_FILES = (FRONT_FILE, RELAY_FILE, CUSTODIAN_FILE)
PSEUDONYM_KEY_PREFIX = "p"
SEAL_KEY_PREFIX = "s"


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be a timezone-aware datetime")
    return now.astimezone(UTC)


def load_front_keyring(keys_dir: Path) -> FrontKeyring:
    """Load `front.json`; raise KeyringError if it is missing, unreadable, too open or malformed."""
    return decode_key_file(keys_dir / FRONT_FILE, decode_front)


def load_relay_keyring(keys_dir: Path) -> RelayKeyring:
    """Load `relay.json`; raise KeyringError as `load_front_keyring` does."""
    return decode_key_file(keys_dir / RELAY_FILE, decode_relay)


def load_custodian_keyring(keys_dir: Path) -> CustodianKeyring:
    """Load `custodian.json`; raise KeyringError as `load_front_keyring` does."""
    return decode_key_file(keys_dir / CUSTODIAN_FILE, decode_custodian)


def new_custodian_keyring(*, suite: SealSuite, now: datetime) -> CustodianKeyring:
    """Generate a keyring with pseudonym key `p1` and seal key `s1` of `suite`, both active."""
    created_at = _utc(now)
    pseudonym_key = PseudonymKey(f"{PSEUDONYM_KEY_PREFIX}1", os.urandom(PSEUDONYM_KEY_BYTES), created_at)
    seal_key = SealPrivateKey(f"{SEAL_KEY_PREFIX}1", suite, generate_private_bytes(suite), created_at)
    return CustodianKeyring((pseudonym_key,), pseudonym_key.key_id, (seal_key,), seal_key.key_id)


def init_keyrings(keys_dir: Path, suite: SealSuite = SealSuite.X25519, *, now: datetime) -> bool:
    """Create the three keyring files if none exists and return True.

    When all three exist, loads each as its component would and returns
    False, changing nothing. Raises KeyringError, as the loaders do, when
    one of them is too widely readable or malformed, so a home with broken
    keyrings is not reported as ready. Raises KeyringError when only some
    exist, because generating the missing ones would split the keys
    between components. No key is ever overwritten or regenerated here.
    """
    make_keys_folder(keys_dir)
    with custodian_lock(keys_dir):
        present = [name for name in KEYRING_FILES if (keys_dir / name).exists()]
        if len(present) == len(KEYRING_FILES):
            load_custodian_keyring(keys_dir)
            load_relay_keyring(keys_dir)
            load_front_keyring(keys_dir)
            return False
        if present:
            missing = [name for name in KEYRING_FILES if name not in present]
            raise KeyringError(
                f"keys folder {keys_dir} contains {', '.join(present)} but {', '.join(missing)} is missing. "
                "Restore the missing files from a backup, or move the folder aside to start over; "
                "init never replaces existing keys."
            )

        custodian = new_custodian_keyring(suite=suite, now=now)
        # The custodian file comes first, so an interrupted init leaves the
        # keys recoverable rather than lost.
        write_key_file(keys_dir / CUSTODIAN_FILE, encode_custodian(custodian), replace=False)
        write_key_file(keys_dir / RELAY_FILE, encode_relay(custodian.relay()), replace=False)
        write_key_file(keys_dir / FRONT_FILE, encode_front(custodian.front()), replace=False)
    logger.info(
        "created keyrings in %s with keys %s and %s",
        keys_dir,
        custodian.active_pseudonym_key_id,
        custodian.active_seal_key_id,
    )
    return True


def _save_added(keys_dir: Path, custodian: CustodianKeyring) -> None:
    # A new key is written to the custodian first and to the relay before the
    # front, so the relay already holds a private key when the front starts
    # sealing to its public key.
    write_key_file(keys_dir / CUSTODIAN_FILE, encode_custodian(custodian), replace=True)
    write_key_file(keys_dir / RELAY_FILE, encode_relay(custodian.relay()), replace=True)
    write_key_file(keys_dir / FRONT_FILE, encode_front(custodian.front()), replace=True)


def _save_removed(keys_dir: Path, custodian: CustodianKeyring) -> None:
    # A retired key leaves the front and relay first and the custodian last,
    # so an interrupted retire can simply be run again.
    write_key_file(keys_dir / FRONT_FILE, encode_front(custodian.front()), replace=True)
    write_key_file(keys_dir / RELAY_FILE, encode_relay(custodian.relay()), replace=True)
    write_key_file(keys_dir / CUSTODIAN_FILE, encode_custodian(custodian), replace=True)


def rotate_pseudonym_key(keys_dir: Path, *, now: datetime) -> str:
    """Add a new pseudonym key, make it active, rewrite all three files, and return its id.

    Old pseudonym keys stay in the front keyring so lookups still find rows
    made with them until those rows are moved and the key is retired.
    """
    with custodian_lock(keys_dir):
        custodian = load_custodian_keyring(keys_dir)
        key_id = custodian.next_key_id(PSEUDONYM_KEY_PREFIX)
        key = PseudonymKey(key_id, os.urandom(PSEUDONYM_KEY_BYTES), _utc(now))
        rotated = dataclasses.replace(
            custodian,
            pseudonym_keys=(*custodian.pseudonym_keys, key),
            active_pseudonym_key_id=key_id,
        )
        _save_added(keys_dir, rotated)
    logger.info(
        "rotated pseudonym key: %s is active, %s is kept for lookups",
        key_id,
        custodian.active_pseudonym_key_id,
    )
    return key_id


def rotate_seal_key(keys_dir: Path, *, suite: SealSuite = SealSuite.X25519, now: datetime) -> str:
    """Add a new relay key pair of `suite`, make it active, rewrite all three files, and return its id.

    The old private key stays with the relay so old payloads still open
    until they are rewrapped and the key is retired.
    """
    with custodian_lock(keys_dir):
        custodian = load_custodian_keyring(keys_dir)
        key_id = custodian.next_key_id(SEAL_KEY_PREFIX)
        key = SealPrivateKey(key_id, suite, generate_private_bytes(suite), _utc(now))
        rotated = dataclasses.replace(
            custodian, seal_keys=(*custodian.seal_keys, key), active_seal_key_id=key_id
        )
        _save_added(keys_dir, rotated)
    logger.info(
        "rotated seal key: %s (%s) is active, %s is kept for opening",
        key_id,
        suite.value,
        custodian.active_seal_key_id,
    )
    return key_id


def check_retirable(custodian: CustodianKeyring, key_id: str) -> None:
    """Raise KeyringError unless `key_id` is a non-active key that the custodian keyring contains.

    The message for an active key names the rotation that makes another key
    active, because no bulk command moves rows off the active key.
    """
    if key_id == custodian.active_pseudonym_key_id:
        raise KeyringError(
            f"key {key_id} is the active pseudonym key and cannot be retired. "
            "Rotate first with `sealbook keys rotate-pseudonym`, move the rows to the new key with "
            f"`sealbook keys repseudonymise`, then retire {key_id}."
        )
    if key_id == custodian.active_seal_key_id:
        raise KeyringError(
            f"key {key_id} is the active seal key and cannot be retired. "
            "Rotate first with `sealbook keys rotate-seal`, re-seal the rows to the new key with "
            f"`sealbook keys rewrap`, then retire {key_id}."
        )
    if any(record.key_id == key_id for record in custodian.retired):
        raise KeyringError(f"key {key_id} is already retired.")
    held = [key.key_id for key in custodian.pseudonym_keys] + [key.key_id for key in custodian.seal_keys]
    if key_id not in held:
        raise KeyringError(
            f"no key with id {key_id} in the custodian keyring. List the key ids with `sealbook keys status`."
        )


def retire_key(keys_dir: Path, key_id: str, *, now: datetime) -> None:
    """Remove a pseudonym or seal key from every keyring and record its id as retired.

    The caller must first check that no stored row still uses the key:
    afterwards, rows pseudonymised under it are no longer found and payloads
    sealed to it no longer open. Raises KeyringError as `check_retirable`
    does, for the active key of its kind, an unknown id or an id already
    retired.
    """
    with custodian_lock(keys_dir):
        custodian = load_custodian_keyring(keys_dir)
        check_retirable(custodian, key_id)
        pseudonym_keys = tuple(key for key in custodian.pseudonym_keys if key.key_id != key_id)
        seal_keys = tuple(key for key in custodian.seal_keys if key.key_id != key_id)

        retired = dataclasses.replace(
            custodian,
            pseudonym_keys=pseudonym_keys,
            seal_keys=seal_keys,
            retired=(*custodian.retired, RetiredKey(key_id, _utc(now))),
        )
        _save_removed(keys_dir, retired)
    logger.info("retired key %s", key_id)
