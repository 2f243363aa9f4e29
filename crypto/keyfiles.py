"""Reading and writing keyring files: JSON layout, mode 0600, atomic replacement, permission checks."""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from crypto.errors import KeyringError
from crypto.keys import (
    CustodianKeyring,
    FrontKeyring,
    PseudonymKey,
    RelayKeyring,
    RetiredKey,
    SealPrivateKey,
    SealPublicKey,
)
from crypto.suites import SealSuite

FORMAT_NAME: Final = "sealbook-keyring"
FORMAT_VERSION: Final = 1
FRONT_FILE: Final = "front.json"
RELAY_FILE: Final = "relay.json"
CUSTODIAN_FILE: Final = "custodian.json"
LOCK_FILE: Final = ".lock"

FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700

_Keyring = TypeVar("_Keyring", FrontKeyring, RelayKeyring, CustodianKeyring)

logger = logging.getLogger(__name__)

# Folders and modes already warned about, so a process that loads its
# keyring more than once logs each loose folder once.
_warned_folders: set[tuple[Path, int]] = set()


class _Malformed(Exception):
    """A keyring document that does not match the layout; its message names the field, never a value."""


# --- encoding -------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _time(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


def _document(role: str, body: dict[str, Any]) -> bytes:
    document = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "role": role, **body}
    return (json.dumps(document, indent=2) + "\n").encode()


def _pseudonym_entries(keys: tuple[PseudonymKey, ...]) -> list[dict[str, str]]:
    return [
        {
            "id": key.key_id,
            "created_at": _time(key.created_at),
            "secret": _b64(key.secret),
        }
        for key in keys
    ]


def _private_entries(keys: tuple[SealPrivateKey, ...]) -> list[dict[str, str]]:
    return [
        {
            "id": key.key_id,
            "suite": key.suite.value,
            "created_at": _time(key.created_at),
            "private": _b64(key.private_bytes),
        }
        for key in keys
    ]


def encode_custodian(keyring: CustodianKeyring) -> bytes:
    """Return the custodian file: every key, private parts included, and the retired ids."""
    return _document(
        "custodian",
        {
            "active_pseudonym_key": keyring.active_pseudonym_key_id,
            "pseudonym_keys": _pseudonym_entries(keyring.pseudonym_keys),
            "active_seal_key": keyring.active_seal_key_id,
            "seal_keys": _private_entries(keyring.seal_keys),
            "retired": [
                {"id": record.key_id, "retired_at": _time(record.retired_at)} for record in keyring.retired
            ],
        },
    )


def encode_front(keyring: FrontKeyring) -> bytes:
    """Return the front file: pseudonym secrets and relay public keys."""
    return _document(
        "front",
        {
            "active_pseudonym_key": keyring.active_pseudonym_key_id,
            "pseudonym_keys": _pseudonym_entries(keyring.pseudonym_keys),
            "active_seal_key": keyring.active_seal_key_id,
            "seal_keys": [
                {
                    "id": key.key_id,
                    "suite": key.suite.value,
                    "created_at": _time(key.created_at),
                    "public": _b64(key.public_bytes),
                }
                for key in keyring.seal_keys
            ],
        },
    )


def encode_relay(keyring: RelayKeyring) -> bytes:
    """Return the relay file: relay private keys only."""
    return _document("relay", {"seal_keys": _private_entries(keyring.seal_keys)})


# --- decoding -------------------------------------------------------------


def _field(entry: object, name: str, kind: type) -> Any:
    if not isinstance(entry, dict) or name not in entry:
        raise _Malformed(f"missing field {name!r}")
    value = entry[name]
    # bool is a subclass of int, so `isinstance(True, int)` is true and
    # `True == 1`. A JSON `true` must not pass for the integer 1.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _Malformed(f"field {name!r} has the wrong type")
    return value


def _bytes_field(entry: object, name: str) -> bytes:
    try:
        return base64.b64decode(_field(entry, name, str), validate=True)
    except binascii.Error:
        raise _Malformed(f"field {name!r} is not valid base64") from None


def _time_field(entry: object, name: str) -> datetime:
    try:
        instant = datetime.fromisoformat(_field(entry, name, str))
    except ValueError:
        raise _Malformed(f"field {name!r} is not an ISO 8601 time") from None
    if instant.tzinfo is None:
        raise _Malformed(f"field {name!r} has no UTC offset")
    return instant


def _suite_field(entry: object) -> SealSuite:
    try:
        return SealSuite.from_name(_field(entry, "suite", str))
    except ValueError as exc:
        raise _Malformed(str(exc)) from None


def _list_field(document: object, name: str) -> list[object]:
    return list(_field(document, name, list))


def _pseudonym_keys(document: object) -> tuple[PseudonymKey, ...]:
    return tuple(
        PseudonymKey(
            _field(entry, "id", str),
            _bytes_field(entry, "secret"),
            _time_field(entry, "created_at"),
        )
        for entry in _list_field(document, "pseudonym_keys")
    )


def _private_keys(document: object) -> tuple[SealPrivateKey, ...]:
    return tuple(
        SealPrivateKey(
            _field(entry, "id", str),
            _suite_field(entry),
            _bytes_field(entry, "private"),
            _time_field(entry, "created_at"),
        )
        for entry in _list_field(document, "seal_keys")
    )


def _parse(data: bytes, role: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _Malformed("not JSON") from None
    if _field(document, "format", str) != FORMAT_NAME:
        raise _Malformed(f"field 'format' is not {FORMAT_NAME!r}")
    if _field(document, "version", int) != FORMAT_VERSION:
        raise _Malformed(
            f"field 'version' is not {FORMAT_VERSION}; this code reads version {FORMAT_VERSION} only"
        )
    if _field(document, "role", str) != role:
        raise _Malformed(f"field 'role' is not {role!r}, so this is another component's keyring")
    result: dict[str, Any] = document
    return result


def decode_custodian(data: bytes) -> CustodianKeyring:
    """Parse a custodian file; raise _Malformed naming the bad field."""
    document = _parse(data, "custodian")
    return CustodianKeyring(
        _pseudonym_keys(document),
        _field(document, "active_pseudonym_key", str),
        _private_keys(document),
        _field(document, "active_seal_key", str),
        tuple(
            RetiredKey(_field(entry, "id", str), _time_field(entry, "retired_at"))
            for entry in _list_field(document, "retired")
        ),
    )


def decode_front(data: bytes) -> FrontKeyring:
    """Parse a front file; raise _Malformed naming the bad field."""
    document = _parse(data, "front")
    seal_keys = tuple(
        SealPublicKey(
            _field(entry, "id", str),
            _suite_field(entry),
            _bytes_field(entry, "public"),
            _time_field(entry, "created_at"),
        )
        for entry in _list_field(document, "seal_keys")
    )
    return FrontKeyring(
        _pseudonym_keys(document),
        _field(document, "active_pseudonym_key", str),
        seal_keys,
        _field(document, "active_seal_key", str),
    )


def decode_relay(data: bytes) -> RelayKeyring:
    """Parse a relay file; raise _Malformed naming the bad field."""
    return RelayKeyring(_private_keys(_parse(data, "relay")))


# --- files ----------------------------------------------------------------


def read_key_file(path: Path) -> bytes:
    """Return a key file's bytes after checking that only its owner can access it.

    Raises KeyringError for a missing or unreadable file, and for a file
    whose mode grants group or others any access, naming the `chmod` that
    fixes it. The mode is checked on the open descriptor, not the path.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise KeyringError(
            f"keyring file {path} not found. Create the keyrings with `sealbook keys init`, "
            "or restore the file from a backup."
        ) from None
    except OSError as exc:
        raise KeyringError(
            f"keyring file {path} could not be opened ({exc.strerror}). "
            "Run this component as the user that owns the file."
        ) from None

    with os.fdopen(fd, "rb") as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & 0o077:
            raise KeyringError(
                f"keyring file {path} has mode {mode:04o}, so group or others can access it. "
                f"Fix it with: chmod 600 {path}"
            )
        try:
            return handle.read()
        except OSError as exc:
            raise KeyringError(f"keyring file {path} could not be read ({exc.strerror}).") from None


def check_keys_folder(keys_dir: Path) -> None:
    """Check that only its owner can change the keys folder, and warn if others can list or enter it.

    Raises KeyringError for a missing folder, and for one that group or
    others can write, because whoever can write the folder can replace a
    key file with their own (a front keyring with their relay public key,
    say) although the file itself has mode 0600. A folder that group or
    others can only read or enter is logged at WARNING, once per folder
    and mode, because it reveals which files exist but not their keys.
    Both messages name the `chmod` that fixes the folder.
    """
    try:
        mode = stat.S_IMODE(os.stat(keys_dir).st_mode)
    except FileNotFoundError:
        raise KeyringError(
            f"keys folder {keys_dir} not found. Create the keyrings with `sealbook keys init`, "
            "or restore the folder from a backup."
        ) from None
    except OSError as exc:
        raise KeyringError(f"keys folder {keys_dir} could not be checked ({exc.strerror}).") from None

    if mode & 0o022:
        raise KeyringError(
            f"keys folder {keys_dir} has mode {mode:04o}, so group or others can replace its key files. "
            f"Fix it with: chmod 700 {keys_dir}"
        )
    if mode & 0o055 and (keys_dir, mode) not in _warned_folders:
        _warned_folders.add((keys_dir, mode))
        logger.warning(
            "keys folder %s has mode %04o, so group or others can list or enter it. Fix it with: chmod 700 %s",
            keys_dir,
            mode,
            keys_dir,
        )


def decode_key_file(path: Path, decode: Callable[[bytes], _Keyring]) -> _Keyring:
    """Check the key file's folder, read the file with `read_key_file` and decode it.

    Raises KeyringError naming the folder's or file's problem, or the bad field.
    """
    check_keys_folder(path.parent)
    data = read_key_file(path)
    try:
        return decode(data)
    except (_Malformed, ValueError) as exc:
        raise KeyringError(f"keyring file {path} is malformed: {exc}. {_malformed_remedy(path)}") from None


def _malformed_remedy(path: Path) -> str:
    if path.name == CUSTODIAN_FILE:
        # The custodian file is the source of the other two, and only it
        # records the retired key ids, so nothing on disk can rebuild it.
        return "Restore it from a backup. No command rebuilds it from the front and relay files."
    return (
        f"Restore it from a backup, or rewrite it from {CUSTODIAN_FILE} in the same folder with "
        "`sealbook keys rotate-pseudonym` or `sealbook keys rotate-seal`, which also add a new key."
    )


def write_key_file(path: Path, data: bytes, *, replace: bool) -> None:
    """Write a key file atomically with mode 0600.

    The bytes go to a temporary file in the same folder and are flushed to
    disk. The file then takes its final name in one step: `os.replace` when
    `replace` is true, otherwise a hard link, which fails if the name exists
    and so never overwrites a key file. Raises KeyringError in that case.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise KeyringError(f"keyring file {path} already exists and was left unchanged.") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_keys_folder(keys_dir: Path) -> None:
    """Create the keys folder with mode 0700 if it is missing.

    An existing folder keeps its mode, and `check_keys_folder` judges it.
    """
    if not keys_dir.exists():
        keys_dir.mkdir(mode=DIR_MODE, parents=True)
        os.chmod(keys_dir, DIR_MODE)


@contextlib.contextmanager
def custodian_lock(keys_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the keys folder, so two custodian commands never interleave their writes.

    Checks the folder with `check_keys_folder` first, so no lock file is
    created in a folder that others can write.
    """
    check_keys_folder(keys_dir)
    fd = os.open(keys_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
