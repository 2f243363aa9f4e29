"""A minimal keyring set-up for ``sealbook init`` until the full key-management module replaces it.

It writes one pseudonym key and one X25519 relay key pair in the three-file
layout (front, relay, custodian), each file mode 0600 in a 0700 folder.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from sealbook.errors import ConfigError

KEYRING_FILES = ("front.json", "relay.json", "custodian.json")


def init_keyrings(keys_dir: Path) -> bool:
    """Create the three keyring files; return False, changing nothing, if they all exist."""
    present = [name for name in KEYRING_FILES if (keys_dir / name).exists()]
    if len(present) == len(KEYRING_FILES):
        return False
    if present:
        raise ConfigError(
            f"{keys_dir} holds only some keyring files ({', '.join(present)}); "
            "restore the missing ones from backup, or move the folder away to start afresh"
        )

    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    pseudonym_secret = secrets.token_bytes(32)
    private_key = X25519PrivateKey.generate()
    private_raw = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public_raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    pseudonym = {"id": "p1", "secret": _b64(pseudonym_secret)}
    seal_public = {"id": "s1", "suite": "x25519", "public": _b64(public_raw)}
    seal_private = {**seal_public, "private": _b64(private_raw)}

    _write_private(keys_dir / "front.json", {"pseudonym_keys": [pseudonym], "seal_keys": [seal_public]})
    _write_private(keys_dir / "relay.json", {"seal_keys": [seal_private]})
    _write_private(keys_dir / "custodian.json", {"pseudonym_keys": [pseudonym], "seal_keys": [seal_private]})
    return True


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _write_private(path: Path, document: dict[str, object]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
