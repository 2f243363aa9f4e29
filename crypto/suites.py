"""The HPKE suites that can seal contacts, with their IANA ids and raw key encodings."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final, TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from crypto.errors import KeyringError

HpkePrivateKey: TypeAlias = x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey
HpkePublicKey: TypeAlias = x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey

# IANA HPKE registry: KDF 0x0001 is HKDF-SHA256, AEAD 0x0003 is ChaCha20Poly1305,
# KEM 0x0020 is DHKEM(X25519, HKDF-SHA256) and 0x647A is MLKEM768-X25519
# (draft-ietf-hpke-pq, the X-Wing combiner), as cryptography 50 implements it.
KDF_HKDF_SHA256: Final = 0x0001
AEAD_CHACHA20_POLY1305: Final = 0x0003

_X25519_KEY_BYTES: Final = 32
_MLKEM768_SEED_BYTES: Final = 64
_MLKEM768_PUBLIC_BYTES: Final = 1184


class SealSuite(enum.Enum):
    """An HPKE suite for sealed contacts, named as in keyring files and on the command line."""

    X25519 = "x25519"
    MLKEM768_X25519 = "mlkem768-x25519"

    @classmethod
    def from_name(cls, name: str) -> SealSuite:
        """Return the suite called `name`, or raise ValueError listing the known names."""
        for suite in cls:
            if suite.value == name:
                return suite
        known = ", ".join(suite.value for suite in cls)
        raise ValueError(f"unknown seal suite {name!r}; expected one of {known}")


@dataclass(frozen=True)
class SuiteSpec:
    """The HPKE parameters of one SealSuite: IANA ids, the library suite and key sizes in bytes."""

    kem_id: int
    kdf_id: int
    aead_id: int
    enc_bytes: int
    private_bytes: int
    public_bytes: int
    kem: hpke.KEM
    _suite: hpke.Suite = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        suite = hpke.Suite(self.kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
        object.__setattr__(self, "_suite", suite)

    def hpke_suite(self) -> hpke.Suite:
        """Return the cryptography `Suite` object for this spec, built once."""
        return self._suite


SPECS: Final[dict[SealSuite, SuiteSpec]] = {
    SealSuite.X25519: SuiteSpec(
        kem_id=0x0020,
        kdf_id=KDF_HKDF_SHA256,
        aead_id=AEAD_CHACHA20_POLY1305,
        enc_bytes=32,
        private_bytes=_X25519_KEY_BYTES,
        public_bytes=_X25519_KEY_BYTES,
        kem=hpke.KEM.X25519,
    ),
    SealSuite.MLKEM768_X25519: SuiteSpec(
        kem_id=0x647A,
        kdf_id=KDF_HKDF_SHA256,
        aead_id=AEAD_CHACHA20_POLY1305,
        enc_bytes=1120,
        private_bytes=_MLKEM768_SEED_BYTES + _X25519_KEY_BYTES,
        public_bytes=_MLKEM768_PUBLIC_BYTES + _X25519_KEY_BYTES,
        kem=hpke.KEM.MLKEM768_X25519,
    ),
}


def suite_for_ids(kem_id: int, kdf_id: int, aead_id: int) -> SealSuite | None:
    """Return the suite with these IANA ids, or None when sealbook does not support that combination."""
    for suite, spec in SPECS.items():
        if (spec.kem_id, spec.kdf_id, spec.aead_id) == (kem_id, kdf_id, aead_id):
            return suite
    return None


def generate_private_bytes(suite: SealSuite) -> bytes:
    """Generate a fresh private key for `suite` in its raw keyring encoding.

    X25519 keys are the 32 raw bytes. Hybrid keys are the 64-byte ML-KEM-768
    seed (d || z, FIPS 203) followed by the 32 raw X25519 bytes.
    """
    x25519_bytes = x25519.X25519PrivateKey.generate().private_bytes_raw()
    if suite is SealSuite.X25519:
        return x25519_bytes
    try:
        mlkem_seed = mlkem.MLKEM768PrivateKey.generate().private_bytes_raw()
    except UnsupportedAlgorithm as exc:
        raise KeyringError(
            "this build of the cryptography library has no ML-KEM-768. "
            "Use the x25519 suite, or install a cryptography wheel built with ML-KEM support."
        ) from exc
    return mlkem_seed + x25519_bytes


def load_private_key(suite: SealSuite, raw: bytes) -> HpkePrivateKey:
    """Build the library key object from raw keyring bytes; raise ValueError on a wrong length."""
    spec = SPECS[suite]
    if len(raw) != spec.private_bytes:
        raise ValueError(f"a {suite.value} private key has {spec.private_bytes} bytes, not {len(raw)}")
    if suite is SealSuite.X25519:
        return x25519.X25519PrivateKey.from_private_bytes(raw)
    return hpke.MLKEM768X25519PrivateKey(
        mlkem.MLKEM768PrivateKey.from_seed_bytes(raw[:_MLKEM768_SEED_BYTES]),
        x25519.X25519PrivateKey.from_private_bytes(raw[_MLKEM768_SEED_BYTES:]),
    )


def load_public_key(suite: SealSuite, raw: bytes) -> HpkePublicKey:
    """Build the library public key object from raw keyring bytes; raise ValueError on a wrong length."""
    spec = SPECS[suite]
    if len(raw) != spec.public_bytes:
        raise ValueError(f"a {suite.value} public key has {spec.public_bytes} bytes, not {len(raw)}")
    if suite is SealSuite.X25519:
        return x25519.X25519PublicKey.from_public_bytes(raw)
    return hpke.MLKEM768X25519PublicKey(
        mlkem.MLKEM768PublicKey.from_public_bytes(raw[:_MLKEM768_PUBLIC_BYTES]),
        x25519.X25519PublicKey.from_public_bytes(raw[_MLKEM768_PUBLIC_BYTES:]),
    )


def public_bytes_for(suite: SealSuite, private_raw: bytes) -> bytes:
    """Return the raw public key that matches a raw private key.

    Hybrid public keys are the 1184-byte ML-KEM-768 encapsulation key
    followed by the 32-byte X25519 public key.
    """
    load_private_key(suite, private_raw)  # Checks the length and the bytes.
    x25519_public = (
        x25519.X25519PrivateKey.from_private_bytes(private_raw[-_X25519_KEY_BYTES:])
        .public_key()
        .public_bytes_raw()
    )
    if suite is SealSuite.X25519:
        return x25519_public
    mlkem_public = (
        mlkem.MLKEM768PrivateKey.from_seed_bytes(private_raw[:_MLKEM768_SEED_BYTES])
        .public_key()
        .public_bytes_raw()
    )
    return mlkem_public + x25519_public
