"""Tests for `sealbook keys`: status, retire, and a full rotation of both keys on a populated database."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.contacts import ContactRef, attach_email_contact, resolve_contact
from crypto import FrontKeyring, load_front_keyring, load_relay_keyring, normalise, open_contact
from sealbook.cli import app
from sealbook.cli_support import run_app
from sealbook.clock import FixedClock
from sealbook.errors import ConfigError
from sealbook.home import initialise_home
from storage.db import session_scope
from storage.models.audit import AuditEntry
from storage.models.contacts import Contact

SMS_COUNT = 200
TELEGRAM_COUNT = 80
EMAIL_COUNT = 30


@pytest.fixture
def keys_home(
    home: Path, db_url: str, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A home with keyrings whose commands use the migrated test database of each kind."""
    monkeypatch.setenv("SEALBOOK_DATABASE_URL", db_url)
    monkeypatch.setenv("SEALBOOK_NOW", "2027-03-10T09:00:00+00:00")
    return home


UNREACHABLE_DATABASE_URL = "postgresql://postgres@127.0.0.1:1/test"


def read_only_url(db_url: str) -> str:
    """Return a URL that opens the same database read-only."""
    if db_url.startswith("sqlite"):
        path = db_url.split(":///", 1)[1]
        return f"sqlite+pysqlite:///file:{path}?mode=ro&uri=true"
    return f"{db_url}%20-cdefault_transaction_read_only%3Don"


def _key_files(keys_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in keys_dir.glob("*.json")}


def _audit_actions(factory: sessionmaker[Session]) -> list[str]:
    with session_scope(factory) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def sealbook(home: Path, *args: str) -> int:
    """Run one `sealbook keys` command in this process and return its exit code."""
    return run_app(app, "sealbook", ["keys", *args, "--home", str(home)])


def _sms(index: int) -> str:
    return f"0412 {index // 1000:03d} {index % 1000:03d}"


def _email(index: int) -> str:
    return f"Patient.{index}@Example.org"


def _populate(
    factory: sessionmaker[Session], front: FrontKeyring, clock: FixedClock
) -> dict[tuple[str, str | int], int]:
    """Create SMS, Telegram and e-mail contacts; return the row id of each identifier."""
    ids: dict[tuple[str, str | int], int] = {}
    with session_scope(factory) as session:
        for index in range(SMS_COUNT):
            ids[("sms", _sms(index))] = _resolve(session, front, "sms", _sms(index), clock).contact_id
        for index in range(TELEGRAM_COUNT):
            chat_id = 100_000 + index
            ids[("telegram", chat_id)] = _resolve(session, front, "telegram", chat_id, clock).contact_id
        for index in range(EMAIL_COUNT):
            owner = ids[("sms", _sms(index))]
            email = attach_email_contact(session, front, owner, _email(index), now=clock.now())
            ids[("email", _email(index))] = email.contact_id
    return ids


def _resolve(
    session: Session, front: FrontKeyring, channel: str, raw: str | int, clock: FixedClock
) -> ContactRef:
    return resolve_contact(session, front, channel, raw, default_region="AU", now=clock.now())


def _key_ids(factory: sessionmaker[Session]) -> tuple[set[str], set[str | None]]:
    with session_scope(factory) as session:
        pseudonym_ids = set(session.scalars(select(Contact.pseudonym_key_id).distinct()))
        seal_ids = set(session.scalars(select(Contact.seal_key_id).distinct()))
    return pseudonym_ids, seal_ids


def test_full_rotation_loses_no_contact(
    keys_home: Path,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Rotating both keys, moving every row and retiring the old keys loses no contact."""
    keys_dir = keys_home / "keys"
    ids = _populate(session_factory, load_front_keyring(keys_dir), clock)
    assert len(ids) == SMS_COUNT + TELEGRAM_COUNT + EMAIL_COUNT

    assert sealbook(keys_home, "rotate-pseudonym") == 0
    assert sealbook(keys_home, "rotate-seal", "--suite", "mlkem768-x25519") == 0
    rotated_front = load_front_keyring(keys_dir)

    # Returning patients are found under p1 and moved to p2 on the spot.
    with session_scope(session_factory) as session:
        for index in range(0, 40, 4):
            ref = _resolve(
                session, rotated_front, "sms", f"+61412{index // 1000:03d}{index % 1000:03d}", clock
            )
            assert ref.contact_id == ids[("sms", _sms(index))]
            assert ref.created is False
        newcomer = _resolve(session, rotated_front, "telegram", 999_999, clock)
    ids[("telegram", 999_999)] = newcomer.contact_id

    # The old keys are still in use, so they cannot be retired yet.
    capsys.readouterr()
    assert sealbook(keys_home, "retire", "p1") == 1
    assert sealbook(keys_home, "retire", "s1") == 1
    refused = capsys.readouterr().err
    assert "sealbook keys repseudonymise" in refused
    assert "sealbook keys rewrap" in refused

    assert sealbook(keys_home, "repseudonymise", "--batch-size", "37") == 0
    assert sealbook(keys_home, "rewrap", "--batch-size", "41") == 0
    output = capsys.readouterr().out
    assert f"repseudonymise: {len(ids) - 1 - 10} rows moved" in output
    assert f"rewrap: {len(ids) - 1} rows moved" in output
    assert _key_ids(session_factory) == ({"p2"}, {"s2"})

    assert sealbook(keys_home, "retire", "p1") == 0
    assert sealbook(keys_home, "retire", "s1") == 0
    front = load_front_keyring(keys_dir)
    relay = load_relay_keyring(keys_dir)
    assert [key.key_id for key in front.pseudonym_keys] == ["p2"]
    assert [key.key_id for key in relay.seal_keys] == ["s2"]

    with session_scope(session_factory) as session:
        for (channel, raw), contact_id in ids.items():
            ref = _resolve(session, front, channel, raw, clock)
            assert ref.contact_id == contact_id
            assert ref.created is False
            row = session.get(Contact, contact_id)
            assert row is not None
            assert row.sealed_contact is not None
            opened = open_contact(relay, row.sealed_contact, channel=channel, contact_id=contact_id)
            assert opened == normalise(channel, raw)
        total = session.scalar(select(func.count()).select_from(Contact))
        linked = session.scalar(select(func.count()).where(Contact.email_contact_id.is_not(None)))
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert total == len(ids)
    assert linked == EMAIL_COUNT
    assert actions == [
        "keys.rotate-pseudonym",
        "keys.rotate-seal",
        "keys.repseudonymise",
        "keys.rewrap",
        "keys.retire",
        "keys.retire",
    ]


def test_status_shows_usage_without_key_material(
    keys_home: Path,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Status lists ids, suites, ages and row counts, and no secret, public key or pseudonym."""
    keys_dir = keys_home / "keys"
    front = load_front_keyring(keys_dir)
    with session_scope(session_factory) as session:
        for index in range(5):
            _resolve(session, front, "sms", _sms(index), clock)
    assert sealbook(keys_home, "rotate-seal") == 0
    capsys.readouterr()

    assert sealbook(keys_home, "status") == 0
    output = capsys.readouterr().out
    lines = output.splitlines()
    assert any(
        line.split()[:4] == ["pseudonym", "p1", "-", "yes"] and line.split()[-1] == "5" for line in lines
    )
    assert any(
        line.split()[:4] == ["seal", "s1", "x25519", "no"] and line.split()[-1] == "5" for line in lines
    )
    assert any(
        line.split()[:4] == ["seal", "s2", "x25519", "yes"] and line.split()[-1] == "0" for line in lines
    )
    assert "s1 is still in use: run `sealbook keys rewrap`" in output

    custodian = json.loads((keys_dir / "custodian.json").read_text())
    front_file = json.loads((keys_dir / "front.json").read_text())
    materials = [entry["secret"] for entry in custodian["pseudonym_keys"]]
    materials += [entry["private"] for entry in custodian["seal_keys"]]
    materials += [entry["public"] for entry in front_file["seal_keys"]]
    for material in materials:
        raw = base64.b64decode(material)
        assert material[:12] not in output
        assert raw.hex()[:12] not in output
    with session_scope(session_factory) as session:
        for pseudonym in session.scalars(select(Contact.pseudonym)):
            assert pseudonym.hex()[:12] not in output
            assert base64.b64encode(pseudonym).decode()[:12] not in output


def test_retire_refuses_key_in_use(
    keys_home: Path,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Retire refuses an old key that rows still use, names the fix, and leaves every keyring unchanged."""
    keys_dir = keys_home / "keys"
    with session_scope(session_factory) as session:
        _resolve(session, load_front_keyring(keys_dir), "telegram", 5, clock)
    assert sealbook(keys_home, "rotate-pseudonym") == 0
    before = {path.name: path.read_bytes() for path in keys_dir.glob("*.json")}
    capsys.readouterr()

    assert sealbook(keys_home, "retire", "p1") == 1
    error = capsys.readouterr().err
    assert "key p1 is still used by 1 contact rows" in error
    assert "sealbook keys repseudonymise" in error
    assert {path.name: path.read_bytes() for path in keys_dir.glob("*.json")} == before


def test_keys_init_is_idempotent(keys_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`keys init` on a home that has keyrings changes nothing and reports that."""
    keys_dir = keys_home / "keys"
    before = {path.name: path.read_bytes() for path in keys_dir.glob("*.json")}
    assert sealbook(keys_home, "init") == 0
    assert "nothing changed" in capsys.readouterr().out
    assert {path.name: path.read_bytes() for path in keys_dir.glob("*.json")} == before


def test_loose_key_file_stops_command(keys_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A group-readable custodian file stops the command with the chmod that fixes it, not a traceback."""
    path = keys_home / "keys" / "custodian.json"
    path.chmod(0o640)
    assert sealbook(keys_home, "status") == 1
    error = capsys.readouterr().err
    assert f"chmod 600 {path}" in error
    assert "Traceback" not in error


def test_init_uses_seal_suite_setting(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sealbook init` makes the first seal key of the configured suite, and rejects an unknown suite."""
    monkeypatch.setenv("SEALBOOK_SEAL_SUITE", "mlkem768-x25519")
    initialise_home(tmp_path / "hybrid", clock=clock)
    front = load_front_keyring(tmp_path / "hybrid" / "keys")
    assert front.active_seal_key.suite.value == "mlkem768-x25519"
    assert front.active_seal_key.created_at == clock.now()

    monkeypatch.setenv("SEALBOOK_SEAL_SUITE", "rsa")
    with pytest.raises(ConfigError, match="unknown seal suite 'rsa'"):
        initialise_home(tmp_path / "unknown", clock=clock)
    assert not (tmp_path / "unknown" / "keys" / "custodian.json").exists()


def test_init_rejects_loose_key_files(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`sealbook init` on a home whose key files are 0644 fails with the loaders' chmod advice."""
    for path in (home / "keys").glob("*.json"):
        path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        initialise_home(home)

    capsys.readouterr()
    assert run_app(app, "sealbook", ["init", "--home", str(home)]) == 1
    error = capsys.readouterr().err
    assert "chmod 600" in error
    assert "nothing changed" not in error
    assert "Traceback" not in error


def test_init_rejects_malformed_key_file(home: Path) -> None:
    """`sealbook init` on a home with a malformed custodian file names the file and the remedy."""
    path = home / "keys" / "custodian.json"
    path.write_text("{}")
    with pytest.raises(ConfigError) as caught:
        initialise_home(home)
    assert f"keyring file {path} is malformed" in str(caught.value)
    assert "Restore it from a backup" in str(caught.value)


CHANGING_COMMANDS = [
    ("rotate-pseudonym",),
    ("rotate-seal",),
    ("retire", "p1"),
    ("rewrap",),
    ("repseudonymise",),
]


@pytest.mark.parametrize("command", CHANGING_COMMANDS, ids=lambda command: command[0])
def test_unreachable_database_changes_no_key(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    """With the database unreachable, a key command fails before it touches any keyring."""
    keys_dir = home / "keys"
    assert sealbook(home, "rotate-pseudonym") == 0
    before = _key_files(keys_dir)
    monkeypatch.setenv("SEALBOOK_DATABASE_URL", UNREACHABLE_DATABASE_URL)
    capsys.readouterr()

    assert sealbook(home, *command) == 1
    error = capsys.readouterr().err
    assert "No key or contact row was changed" in error
    assert "127.0.0.1:1" in error
    assert _key_files(keys_dir) == before


@pytest.mark.parametrize("command", CHANGING_COMMANDS, ids=lambda command: command[0])
def test_read_only_database_changes_no_key(
    keys_home: Path,
    db_url: str,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: tuple[str, ...],
) -> None:
    """With a read-only database, a key command fails before it changes a keyring or a row."""
    keys_dir = keys_home / "keys"
    with session_scope(session_factory) as session:
        _resolve(session, load_front_keyring(keys_dir), "sms", _sms(1), clock)
    assert sealbook(keys_home, "rotate-pseudonym") == 0
    assert sealbook(keys_home, "rotate-seal") == 0
    if command[0] == "retire":
        # Move the row off p1, so only the database can stop the retirement.
        assert sealbook(keys_home, "repseudonymise") == 0
    before = _key_files(keys_dir)
    actions_before = _audit_actions(session_factory)
    with session_scope(session_factory) as session:
        rows_before = session.execute(select(Contact.__table__).order_by(Contact.id)).all()
    monkeypatch.setenv("SEALBOOK_DATABASE_URL", read_only_url(db_url))
    capsys.readouterr()

    assert sealbook(keys_home, *command) == 1
    error = capsys.readouterr().err
    assert "No key or contact row was changed" in error
    assert "Traceback" not in error
    assert _key_files(keys_dir) == before
    assert _audit_actions(session_factory) == actions_before
    with session_scope(session_factory) as session:
        assert session.execute(select(Contact.__table__).order_by(Contact.id)).all() == rows_before


def _reject_audit_entries_with_key_id(engine: Engine) -> None:
    """Install a trigger that fails every audit entry naming a key id, as a database failing mid-command would.

    The trial entry that a command writes and rolls back before changing
    anything names no key id, so it still passes.
    """
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER reject_audit BEFORE INSERT ON audit_entries "
                    "WHEN NEW.detail LIKE 'key=%' BEGIN SELECT RAISE(ABORT, 'audit rejected'); END"
                )
            )
            return
        connection.execute(
            text(
                "CREATE FUNCTION reject_audit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'audit rejected'; END $$"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER reject_audit BEFORE INSERT ON audit_entries "
                "FOR EACH ROW WHEN (NEW.detail LIKE 'key=%') EXECUTE FUNCTION reject_audit()"
            )
        )


def test_audit_failure_after_rotation_is_reported(
    keys_home: Path,
    engine: Engine,
    session_factory: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """When the audit entry fails after the keyring changed, the error reports that the rotation stays in effect."""
    _reject_audit_entries_with_key_id(engine)
    capsys.readouterr()

    assert sealbook(keys_home, "rotate-pseudonym") == 1
    captured = capsys.readouterr()
    assert load_front_keyring(keys_home / "keys").active_pseudonym_key_id == "p2"
    assert "p2 is now the active pseudonym key" in captured.out
    assert "Restart the front" in captured.out
    assert "rotation to pseudonym key p2 is done and stays in effect" in captured.err
    assert "audit entry (keys.rotate-pseudonym for key p2) is missing" in captured.err
    assert "audit rejected" in captured.err
    assert _audit_actions(session_factory) == []


def test_key_audit_names_key_in_detail(
    keys_home: Path,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
) -> None:
    """Key commands record the key id in the audit detail and leave the booking reference empty."""
    with session_scope(session_factory) as session:
        _resolve(session, load_front_keyring(keys_home / "keys"), "sms", _sms(1), clock)

    codes = [
        sealbook(keys_home, "rotate-pseudonym"),
        sealbook(keys_home, "rotate-seal", "--suite", "x25519"),
        sealbook(keys_home, "rewrap"),
        sealbook(keys_home, "repseudonymise"),
        sealbook(keys_home, "retire", "p1"),
    ]
    with session_scope(session_factory) as session:
        entries = [
            (entry.action, entry.reference, entry.detail)
            for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        ]

    assert codes == [0, 0, 0, 0, 0]
    assert entries == [
        ("keys.rotate-pseudonym", None, "key=p2"),
        ("keys.rotate-seal", None, "key=s2 suite=x25519"),
        ("keys.rewrap", None, "key=s2 moved=1 failed=0"),
        ("keys.repseudonymise", None, "key=p2 moved=1 failed=0"),
        ("keys.retire", None, "key=p1"),
    ]


@pytest.mark.parametrize(
    ("key_id", "rotate"),
    [("p1", "sealbook keys rotate-pseudonym"), ("s1", "sealbook keys rotate-seal")],
)
def test_retire_active_key_says_rotate_first(
    keys_home: Path,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    key_id: str,
    rotate: str,
) -> None:
    """Retiring the active key, even one that rows use, fails naming the rotation to run first."""
    keys_dir = keys_home / "keys"
    with session_scope(session_factory) as session:
        _resolve(session, load_front_keyring(keys_dir), "telegram", 5, clock)
    before = _key_files(keys_dir)
    capsys.readouterr()

    assert sealbook(keys_home, "retire", key_id) == 1
    error = capsys.readouterr().err
    assert f"key {key_id} is the active" in error
    assert "cannot be retired" in error
    assert rotate in error
    assert "still used by" not in error
    assert _key_files(keys_dir) == before
