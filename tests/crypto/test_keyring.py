"""Tests for keyring files: what each holds, permissions, init idempotence, rotation and retirement."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from crypto import (
    KeyringError,
    SealSuite,
    init_keyrings,
    load_custodian_keyring,
    load_front_keyring,
    load_relay_keyring,
    normalise,
    open_contact,
    retire_key,
    rotate_pseudonym_key,
    rotate_seal_key,
    seal_contact,
)
from crypto.keyring import KEYRING_FILES
from tests.crypto.helpers import T0


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    """A keys folder with freshly created keyrings."""
    folder = tmp_path / "keys"
    assert init_keyrings(folder, now=T0) is True
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in KEYRING_FILES}


def test_init_creates_private_files(keys_dir: Path) -> None:
    """init creates the three files with mode 0600 in a folder with mode 0700."""
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    for name in KEYRING_FILES:
        assert stat.S_IMODE((keys_dir / name).stat().st_mode) == 0o600


def test_init_twice_changes_nothing(keys_dir: Path) -> None:
    """A second init returns False and leaves every file byte-for-byte identical."""
    before = _snapshot(keys_dir)
    assert init_keyrings(keys_dir, now=T0) is False
    assert _snapshot(keys_dir) == before


@pytest.mark.parametrize("name", KEYRING_FILES)
def test_init_checks_existing_file_mode(keys_dir: Path, name: str) -> None:
    """init on a complete set raises, as loading does, when one file is group-readable."""
    os.chmod(keys_dir / name, 0o644)
    with pytest.raises(KeyringError) as caught:
        init_keyrings(keys_dir, now=T0)
    assert f"chmod 600 {keys_dir / name}" in str(caught.value)


@pytest.mark.parametrize("name", KEYRING_FILES)
def test_init_checks_existing_file_format(keys_dir: Path, name: str) -> None:
    """init on a complete set raises, as loading does, when one file is malformed, and changes nothing."""
    path = keys_dir / name
    document = json.loads(path.read_text())
    document["version"] = 2
    path.write_text(json.dumps(document))
    before = _snapshot(keys_dir)
    with pytest.raises(KeyringError, match=f"{name} is malformed: field 'version'"):
        init_keyrings(keys_dir, now=T0)
    assert _snapshot(keys_dir) == before


@pytest.mark.parametrize("missing", KEYRING_FILES)
def test_init_partial_set_refused(keys_dir: Path, missing: str) -> None:
    """With one file missing, init raises and neither recreates it nor touches the others."""
    (keys_dir / missing).unlink()
    before = {name: (keys_dir / name).read_bytes() for name in KEYRING_FILES if name != missing}
    with pytest.raises(KeyringError, match=missing):
        init_keyrings(keys_dir, now=T0)
    assert not (keys_dir / missing).exists()
    assert {name: (keys_dir / name).read_bytes() for name in before} == before


def test_init_with_hybrid_suite(tmp_path: Path) -> None:
    """init can make the first seal key a hybrid ML-KEM-768+X25519 key."""
    init_keyrings(tmp_path / "keys", SealSuite.MLKEM768_X25519, now=T0)
    assert load_front_keyring(tmp_path / "keys").active_seal_key.suite is SealSuite.MLKEM768_X25519


def test_files_hold_only_their_share(keys_dir: Path) -> None:
    """The front file has no private seal key and the relay file has no pseudonym key."""
    front = json.loads((keys_dir / "front.json").read_text())
    relay = json.loads((keys_dir / "relay.json").read_text())
    custodian = json.loads((keys_dir / "custodian.json").read_text())
    assert all("private" not in entry for entry in front["seal_keys"])
    assert set(relay) == {"format", "version", "role", "seal_keys"}
    assert custodian["seal_keys"][0]["private"] == relay["seal_keys"][0]["private"]
    assert custodian["pseudonym_keys"] == front["pseudonym_keys"]


def test_front_and_relay_work_together(keys_dir: Path) -> None:
    """A contact sealed with the front's keyring opens with the relay's."""
    identifier = normalise("email", "jane@example.org")
    blob = seal_contact(load_front_keyring(keys_dir).active_seal_key, identifier, 11)
    assert open_contact(load_relay_keyring(keys_dir), blob, channel="email", contact_id=11) == identifier


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_loose_mode_refused(keys_dir: Path, mode: int) -> None:
    """A key file that group or others can access is refused with the chmod that fixes it."""
    path = keys_dir / "front.json"
    os.chmod(path, mode)
    with pytest.raises(KeyringError) as caught:
        load_front_keyring(keys_dir)
    assert f"chmod 600 {path}" in str(caught.value)
    assert f"{mode:04o}" in str(caught.value)


def test_loose_relay_and_custodian_refused(keys_dir: Path) -> None:
    """The relay and custodian loaders refuse a 0644 file too."""
    for name, load in [
        ("relay.json", load_relay_keyring),
        ("custodian.json", load_custodian_keyring),
    ]:
        os.chmod(keys_dir / name, 0o644)
        with pytest.raises(KeyringError, match="chmod 600"):
            load(keys_dir)


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o730, 0o703, 0o1777], ids=lambda mode: f"{mode:04o}")
def test_writable_keys_folder_rejected(keys_dir: Path, mode: int) -> None:
    """A keys folder that group or others can write is rejected by every loader, rotation and init."""
    os.chmod(keys_dir, mode)
    before = _snapshot(keys_dir)
    actions: list[Callable[[], object]] = [
        lambda: load_front_keyring(keys_dir),
        lambda: load_relay_keyring(keys_dir),
        lambda: load_custodian_keyring(keys_dir),
        lambda: rotate_pseudonym_key(keys_dir, now=T0),
        lambda: init_keyrings(keys_dir, now=T0),
    ]
    for action in actions:
        with pytest.raises(KeyringError) as caught:
            action()
        assert f"chmod 700 {keys_dir}" in str(caught.value)
        assert f"{mode:04o}" in str(caught.value)
    assert _snapshot(keys_dir) == before


def test_init_in_writable_folder_creates_nothing(tmp_path: Path) -> None:
    """init rejects an existing empty keys folder that others can write, and writes no key into it."""
    folder = tmp_path / "keys"
    folder.mkdir()
    os.chmod(folder, 0o777)  # noqa: S103 - the loose mode under test
    with pytest.raises(KeyringError, match="chmod 700"):
        init_keyrings(folder, now=T0)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o711, 0o705], ids=lambda mode: f"{mode:04o}")
def test_readable_keys_folder_warns(keys_dir: Path, mode: int, caplog: pytest.LogCaptureFixture) -> None:
    """A keys folder that group or others can list or enter still loads, with one warning naming the fix."""
    os.chmod(keys_dir, mode)
    caplog.set_level("WARNING", logger="crypto")
    load_front_keyring(keys_dir)
    load_relay_keyring(keys_dir)
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert len(warnings) == 1
    assert f"chmod 700 {keys_dir}" in warnings[0]
    assert f"{mode:04o}" in warnings[0]


def test_private_keys_folder_is_silent(keys_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A keys folder with mode 0700 loads without a warning."""
    caplog.set_level("WARNING", logger="crypto")
    load_front_keyring(keys_dir)
    assert caplog.records == []


def test_missing_file_names_fix(tmp_path: Path) -> None:
    """A missing keyring names the file and the command that creates it."""
    with pytest.raises(KeyringError, match="sealbook keys init") as caught:
        load_front_keyring(tmp_path)
    assert str(tmp_path / "front.json") in str(caught.value)


def test_wrong_role_refused(keys_dir: Path) -> None:
    """A relay file put in place of the front file is refused as another component's keyring."""
    os.replace(keys_dir / "relay.json", keys_dir / "front.json")
    with pytest.raises(KeyringError, match="another component"):
        load_front_keyring(keys_dir)


def test_malformed_file_names_field_not_secret(keys_dir: Path) -> None:
    """A damaged file is refused naming the field, without echoing any key material."""
    path = keys_dir / "front.json"
    document = json.loads(path.read_text())
    secret = document["pseudonym_keys"][0]["secret"]
    document["pseudonym_keys"][0]["secret"] = secret[:-4]
    path.write_text(json.dumps(document))
    with pytest.raises(KeyringError) as caught:
        load_front_keyring(keys_dir)
    assert secret[:-4] not in str(caught.value)


def test_not_json_refused(keys_dir: Path) -> None:
    """A file that is not JSON gives a KeyringError, not a JSONDecodeError."""
    (keys_dir / "relay.json").write_bytes(b"\x00garbage")
    with pytest.raises(KeyringError, match="malformed"):
        load_relay_keyring(keys_dir)


@pytest.mark.parametrize("version", [True, 1.0, "1"])
def test_version_must_be_integer(keys_dir: Path, version: object) -> None:
    """A version of true, 1.0 or "1" is rejected, because only the JSON integer 1 is valid."""
    path = keys_dir / "front.json"
    document = json.loads(path.read_text())
    document["version"] = version
    path.write_text(json.dumps(document))
    with pytest.raises(KeyringError, match="'version'"):
        load_front_keyring(keys_dir)


@pytest.mark.parametrize(
    ("name", "load"),
    [
        ("front.json", load_front_keyring),
        ("relay.json", load_relay_keyring),
    ],
)
def test_malformed_component_file_remedy(keys_dir: Path, name: str, load: Callable[[Path], object]) -> None:
    """A damaged front or relay file names the commands that rewrite it from the custodian file."""
    (keys_dir / name).write_text("{}")
    with pytest.raises(KeyringError) as caught:
        load(keys_dir)
    message = str(caught.value)
    assert "from a backup" in message
    assert "custodian.json" in message
    assert "sealbook keys rotate-pseudonym" in message


def test_malformed_custodian_file_remedy(keys_dir: Path) -> None:
    """A damaged custodian file is not sent to be rebuilt from itself: a backup is the remedy."""
    (keys_dir / "custodian.json").write_text("{}")
    with pytest.raises(KeyringError) as caught:
        load_custodian_keyring(keys_dir)
    message = str(caught.value)
    assert "Restore it from a backup" in message
    assert "rewritten from the custodian file" not in message
    assert "rotate" not in message


def test_rotate_pseudonym_keeps_old_key(keys_dir: Path) -> None:
    """After rotation p2 is active and p1 is still held for lookups; seal keys are untouched."""
    before = load_front_keyring(keys_dir)
    assert rotate_pseudonym_key(keys_dir, now=T0) == "p2"
    front = load_front_keyring(keys_dir)
    assert front.active_pseudonym_key_id == "p2"
    assert [key.key_id for key in front.pseudonym_keys_active_first()] == ["p2", "p1"]
    assert front.seal_keys == before.seal_keys


def test_rotate_seal_to_hybrid(keys_dir: Path) -> None:
    """After rotation s2 is the active hybrid key and the relay holds both private keys."""
    assert rotate_seal_key(keys_dir, suite=SealSuite.MLKEM768_X25519, now=T0) == "s2"
    front = load_front_keyring(keys_dir)
    assert front.active_seal_key.suite is SealSuite.MLKEM768_X25519
    relay = load_relay_keyring(keys_dir)
    assert [key.key_id for key in relay.seal_keys] == ["s1", "s2"]
    for name in KEYRING_FILES:
        assert stat.S_IMODE((keys_dir / name).stat().st_mode) == 0o600


def test_retire_refuses_active_key(keys_dir: Path) -> None:
    """The active key of either kind cannot be retired."""
    for key_id in ("p1", "s1"):
        with pytest.raises(KeyringError, match="active"):
            retire_key(keys_dir, key_id, now=T0)


def test_retire_unknown_and_twice(keys_dir: Path) -> None:
    """Retiring an unknown id fails, and so does retiring an id a second time."""
    with pytest.raises(KeyringError, match="no key"):
        retire_key(keys_dir, "p7", now=T0)
    rotate_pseudonym_key(keys_dir, now=T0)
    retire_key(keys_dir, "p1", now=T0)
    with pytest.raises(KeyringError, match="already retired"):
        retire_key(keys_dir, "p1", now=T0)


def test_retire_removes_key_everywhere(keys_dir: Path) -> None:
    """A retired seal key leaves the front and relay files and its id is never reused."""
    rotate_seal_key(keys_dir, now=T0)
    retire_key(keys_dir, "s1", now=T0)
    assert [key.key_id for key in load_relay_keyring(keys_dir).seal_keys] == ["s2"]
    assert [key.key_id for key in load_front_keyring(keys_dir).seal_keys] == ["s2"]
    assert [record.key_id for record in load_custodian_keyring(keys_dir).retired] == ["s1"]
    assert rotate_seal_key(keys_dir, now=T0) == "s3"


def test_no_key_material_in_logs(keys_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Rotation logs key ids only, never secrets."""
    caplog.set_level("DEBUG")
    rotate_pseudonym_key(keys_dir, now=T0)
    rotate_seal_key(keys_dir, now=T0)
    custodian = json.loads((keys_dir / "custodian.json").read_text())
    secrets = [entry["secret"] for entry in custodian["pseudonym_keys"]]
    secrets += [entry["private"] for entry in custodian["seal_keys"]]
    for secret in secrets:
        assert secret not in caplog.text
    assert "p2" in caplog.text


def test_naive_time_rejected(tmp_path: Path) -> None:
    """A naive `now` is a programming error and creates nothing."""
    with pytest.raises(ValueError, match="timezone-aware"):
        init_keyrings(tmp_path / "keys", now=T0.replace(tzinfo=None))
    assert not (tmp_path / "keys" / "custodian.json").exists()
