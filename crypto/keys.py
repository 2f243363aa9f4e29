"""In-memory keys and the three keyrings (front, relay, custodian), each with only its component's keys."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, TypeVar

from crypto.suites import (
    HpkePrivateKey,
    HpkePublicKey,
    SealSuite,
    load_private_key,
    load_public_key,
    public_bytes_for,
)

PSEUDONYM_KEY_BYTES: Final = 32

# Key ids go into every blob header and HPKE info, so they are short ASCII.
KEY_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9._-]{1,16}", re.ASCII)


def check_key_id(key_id: str) -> str:
    """Return `key_id` unchanged, or raise ValueError if it is not 1 to 16 characters of `A-Za-z0-9._-`."""
    if not isinstance(key_id, str) or KEY_ID_PATTERN.fullmatch(key_id) is None:
        raise ValueError("a key id is 1 to 16 characters of A-Z, a-z, 0-9, '.', '_' or '-'")
    return key_id


def _check_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("key creation times must be timezone-aware")
    return instant


@dataclass(frozen=True)
class PseudonymKey:
    """A 32-byte HMAC-SHA-256 secret with its id and creation time."""

    key_id: str
    secret: bytes = field(repr=False)
    created_at: datetime

    def __post_init__(self) -> None:
        check_key_id(self.key_id)
        _check_aware(self.created_at)
        if len(self.secret) != PSEUDONYM_KEY_BYTES:
            raise ValueError(f"a pseudonym key has {PSEUDONYM_KEY_BYTES} bytes, not {len(self.secret)}")


@dataclass(frozen=True)
class SealPublicKey:
    """A relay public key that contacts are sealed to, with its id, suite and creation time."""

    key_id: str
    suite: SealSuite
    public_bytes: bytes = field(repr=False)
    created_at: datetime
    hpke_key: HpkePublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_id(self.key_id)
        _check_aware(self.created_at)
        object.__setattr__(self, "hpke_key", load_public_key(self.suite, self.public_bytes))


@dataclass(frozen=True)
class SealPrivateKey:
    """A relay private key that opens sealed contacts, with its id, suite and creation time."""

    key_id: str
    suite: SealSuite
    private_bytes: bytes = field(repr=False)
    created_at: datetime
    hpke_key: HpkePrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_id(self.key_id)
        _check_aware(self.created_at)
        object.__setattr__(self, "hpke_key", load_private_key(self.suite, self.private_bytes))

    def public(self) -> SealPublicKey:
        """Return the matching public key."""
        return SealPublicKey(
            self.key_id,
            self.suite,
            public_bytes_for(self.suite, self.private_bytes),
            self.created_at,
        )


_Key = TypeVar("_Key", PseudonymKey, SealPublicKey, SealPrivateKey)


def _index(keys: Iterable[_Key], what: str) -> dict[str, _Key]:
    indexed: dict[str, _Key] = {}
    for key in keys:
        if key.key_id in indexed:
            raise ValueError(f"{what} key id {key.key_id!r} appears twice")
        indexed[key.key_id] = key
    return indexed


def _check_active(indexed: dict[str, _Key], active_id: str, what: str) -> None:
    if active_id not in indexed:
        raise ValueError(f"the active {what} key {active_id!r} is not in the keyring")


@dataclass(frozen=True)
class FrontKeyring:
    """The front's keys: pseudonym secrets and relay public keys, with the active id of each."""

    pseudonym_keys: tuple[PseudonymKey, ...]
    active_pseudonym_key_id: str
    seal_keys: tuple[SealPublicKey, ...]
    active_seal_key_id: str

    def __post_init__(self) -> None:
        _check_active(
            _index(self.pseudonym_keys, "pseudonym"),
            self.active_pseudonym_key_id,
            "pseudonym",
        )
        _check_active(_index(self.seal_keys, "seal"), self.active_seal_key_id, "seal")

    @property
    def active_pseudonym_key(self) -> PseudonymKey:
        """The key that new pseudonyms are made with."""
        return _index(self.pseudonym_keys, "pseudonym")[self.active_pseudonym_key_id]

    @property
    def active_seal_key(self) -> SealPublicKey:
        """The relay public key that new contacts are sealed to."""
        return _index(self.seal_keys, "seal")[self.active_seal_key_id]

    def pseudonym_keys_active_first(self) -> list[PseudonymKey]:
        """Return every pseudonym key: the active one, then the others from newest to oldest."""
        others = [key for key in self.pseudonym_keys if key.key_id != self.active_pseudonym_key_id]
        others.sort(key=lambda key: key.created_at, reverse=True)
        return [self.active_pseudonym_key, *others]


@dataclass(frozen=True)
class RelayKeyring:
    """The relay's keys: the relay private keys, found by key id."""

    seal_keys: tuple[SealPrivateKey, ...]

    def __post_init__(self) -> None:
        _index(self.seal_keys, "seal")

    def find(self, key_id: str) -> SealPrivateKey | None:
        """Return the private key with this id, or None if the relay does not hold it."""
        for key in self.seal_keys:
            if key.key_id == key_id:
                return key
        return None


@dataclass(frozen=True)
class RetiredKey:
    """A record that a key id was retired, kept so the id is never reused."""

    key_id: str
    retired_at: datetime

    def __post_init__(self) -> None:
        check_key_id(self.key_id)
        _check_aware(self.retired_at)


@dataclass(frozen=True)
class CustodianKeyring:
    """Every key, private parts included; used only to create, rotate and retire keys."""

    pseudonym_keys: tuple[PseudonymKey, ...]
    active_pseudonym_key_id: str
    seal_keys: tuple[SealPrivateKey, ...]
    active_seal_key_id: str
    retired: tuple[RetiredKey, ...] = ()

    def __post_init__(self) -> None:
        pseudonym = _index(self.pseudonym_keys, "pseudonym")
        seal = _index(self.seal_keys, "seal")
        _check_active(pseudonym, self.active_pseudonym_key_id, "pseudonym")
        _check_active(seal, self.active_seal_key_id, "seal")
        used: list[str] = [
            *pseudonym,
            *seal,
            *(record.key_id for record in self.retired),
        ]
        if len(used) != len(set(used)):
            raise ValueError("a key id appears more than once among pseudonym, seal and retired keys")

    def front(self) -> FrontKeyring:
        """Return the front's share: pseudonym keys and relay public keys."""
        return FrontKeyring(
            self.pseudonym_keys,
            self.active_pseudonym_key_id,
            tuple(key.public() for key in self.seal_keys),
            self.active_seal_key_id,
        )

    def relay(self) -> RelayKeyring:
        """Return the relay's share: the relay private keys."""
        return RelayKeyring(self.seal_keys)

    def next_key_id(self, prefix: str) -> str:
        """Return `prefix` and one more than the highest number used with it, retired keys included."""
        used = [key.key_id for key in self.pseudonym_keys]
        used += [key.key_id for key in self.seal_keys]
        used += [record.key_id for record in self.retired]
        numbers = [int(key_id[len(prefix) :]) for key_id in used if _has_number_after(key_id, prefix)]
        return f"{prefix}{max(numbers, default=0) + 1}"


def _has_number_after(key_id: str, prefix: str) -> bool:
    rest = key_id[len(prefix) :]
    return key_id.startswith(prefix) and rest.isascii() and rest.isdigit()
